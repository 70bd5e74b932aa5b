"""Each live check fails on an object broken on purpose, and passes on a good one."""

from __future__ import annotations

import copy
from typing import Any

from harness import checks

GOOD_CONTAINER = {
    "name": "app",
    "image": "localhost/taskflow/backend:0.1.0",
    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8000}},
    "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8000}},
    "envFrom": [{"configMapRef": {"name": "taskflow-config"}}],
    "env": [
        {
            "name": "JWT_SECRET",
            "valueFrom": {"secretKeyRef": {"name": "taskflow-secrets", "key": "JWT_SECRET"}},
        }
    ],
}


def pod(app: str, container: dict[str, Any] | None = None, ready: bool = True) -> dict[str, Any]:
    body = copy.deepcopy(container or GOOD_CONTAINER)
    body["image"] = f"localhost/taskflow/{app}:0.1.0"
    return {
        "metadata": {"name": f"{app}-1", "labels": {checks.APP_LABEL: app}},
        "spec": {"containers": [body]},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def good_pods() -> list[dict[str, Any]]:
    return [pod(app) for app in checks.SERVICES]


def test_good_pods_pass_every_check() -> None:
    pods = good_pods()
    assert checks.separate_pods_problems(pods) == []
    assert checks.resource_problems(pods) == []
    assert checks.probe_problems(pods) == []
    assert checks.plain_secret_problems(pods, ["JWT_SECRET"]) == []


def test_ready_pods_per_service_counts_only_ready_pods_of_each_service() -> None:
    pods = [*good_pods(), pod("backend", ready=False), pod("conformance-probe")]
    assert checks.ready_pods_per_service(pods) == "frontend 1, backend 1, mcp-server 1"
    assert checks.ready_pods_per_service([pod("frontend")]) == "frontend 1, backend 0, mcp-server 0"


def test_missing_service_pod_fails_fr001() -> None:
    pods = [pod("frontend"), pod("backend")]
    assert checks.separate_pods_problems(pods) == ["no pod labelled app.kubernetes.io/name=mcp-server"]


def test_unready_service_fails_fr001() -> None:
    pods = [*good_pods()[:2], pod("mcp-server", ready=False)]
    assert checks.separate_pods_problems(pods) == ["no ready pod for mcp-server"]


def test_two_services_in_one_pod_fails_fr001() -> None:
    merged = pod("backend")
    second = copy.deepcopy(GOOD_CONTAINER) | {"name": "mcp", "image": "localhost/taskflow/mcp-server:0.1.0"}
    merged["spec"]["containers"].append(second)
    problems = checks.separate_pods_problems([pod("frontend"), merged, pod("mcp-server")])
    assert problems == ["pod backend-1 runs backend and mcp-server together"]


def test_missing_limit_fails_fr007() -> None:
    container = copy.deepcopy(GOOD_CONTAINER)
    del container["resources"]["limits"]["memory"]
    assert checks.resource_problems([pod("backend", container)]) == ["backend-1/app: no limits for memory"]


def test_limits_filled_in_by_the_namespace_limit_range_fail_fr007() -> None:
    """What the API server returns for a container with requests and no limits in a namespace with a
    LimitRange (annotation text as seen live on the embedded cluster, v1.34)."""
    container = copy.deepcopy(GOOD_CONTAINER)
    defaulted = pod("backend", container)
    defaulted["metadata"]["annotations"] = {
        checks.LIMIT_RANGER_ANNOTATION: "LimitRanger plugin set: cpu, ephemeral-storage, memory limit for "
        "container app; ephemeral-storage request for init container migrate"
    }
    assert checks.resource_problems([defaulted]) == [
        "backend-1/app: limits for cpu, memory only from the namespace's LimitRange defaults"
    ]


def test_only_ephemeral_storage_from_the_limit_range_passes_fr007() -> None:
    own = pod("backend")
    own["metadata"]["annotations"] = {
        checks.LIMIT_RANGER_ANNOTATION: "LimitRanger plugin set: ephemeral-storage request for container "
        "app; ephemeral-storage limit for container app"
    }
    assert checks.resource_problems([own]) == []


def test_an_unrecognised_limit_range_note_is_not_a_pass() -> None:
    odd = pod("backend")
    odd["metadata"]["annotations"] = {checks.LIMIT_RANGER_ANNOTATION: "LimitRanger plugin set: something new"}
    assert checks.resource_problems([odd]) != []


def test_init_container_without_requests_fails_fr007() -> None:
    broken = pod("backend")
    broken["spec"]["initContainers"] = [
        {"name": "migrate", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    ]
    assert checks.resource_problems([broken]) == ["backend-1/migrate: no requests for cpu, memory"]


def test_missing_readiness_probe_fails_fr006() -> None:
    container = copy.deepcopy(GOOD_CONTAINER)
    del container["readinessProbe"]
    assert checks.probe_problems([pod("frontend", container)]) == ["frontend-1/app: no readinessProbe"]


def test_literal_secret_fails_fr010() -> None:
    container = copy.deepcopy(GOOD_CONTAINER)
    container["env"] = [{"name": "JWT_SECRET", "value": "hunter2"}]
    problems = checks.plain_secret_problems([pod("backend", container)], ["JWT_SECRET"])
    assert len(problems) == 1 and "JWT_SECRET is a literal value" in problems[0]


def test_env_sources_names_configmaps_and_secrets() -> None:
    assert checks.env_sources(pod("backend")) == {
        "app": {"ConfigMap/taskflow-config", "Secret/taskflow-secrets"}
    }
