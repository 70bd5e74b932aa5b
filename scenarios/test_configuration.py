"""FR-004, FR-010: configuration comes from ConfigMap taskflow-config and Secret taskflow-secrets."""

from __future__ import annotations

import json

import pytest

from harness import checks, live
from harness.deploy import Deployment
from harness.kube import exec_in_pod
from harness.recorder import EvidenceRecorder

SECRET_KEYS = ("DATABASE_URL", "JWT_SECRET", "POSTGRES_PASSWORD")
EXPECTED_BACKEND_ENV = {"MCP_SERVER_URL": "http://mcp-server:8080/mcp"}
APPS_NEEDING_CONFIG = {
    "backend": {"ConfigMap/taskflow-config", "Secret/taskflow-secrets"},
    "mcp-server": {"Secret/taskflow-secrets"},
    "frontend": {"ConfigMap/taskflow-config"},
}


@pytest.mark.criterion("FR-010")
def test_workloads_take_config_from_configmap_and_secret(
    deployment: Deployment, evidence: EvidenceRecorder
) -> None:
    pods = live.pods(deployment)
    for app, wanted in APPS_NEEDING_CONFIG.items():
        pod = next((pod for pod in pods if checks.pod_label(pod) == app), None)
        used = set().union(*checks.env_sources(pod).values()) if pod else set()
        missing = wanted - used
        evidence.check(
            "FR-010",
            f"{app} reads {', '.join(sorted(wanted))}",
            ok=pod is not None and not missing,
            metric="missing sources",
            value=len(missing) if pod else None,
            budget="0",
            detail=f"missing: {', '.join(sorted(missing))}" if missing else f"uses {', '.join(sorted(used))}",
        )
    problems = checks.plain_secret_problems(pods, SECRET_KEYS)
    evidence.check(
        "FR-010",
        "secret values only through Secret references",
        ok=not problems,
        metric="literal secret env vars",
        value=len(problems),
        budget="0",
        detail="; ".join(problems),
    )
    config_map = deployment.kube.core.read_namespaced_config_map("taskflow-config", deployment.namespace)
    leaked = sorted(set(config_map.data or {}) & set(SECRET_KEYS))
    evidence.check(
        "FR-010",
        "no secret keys in the ConfigMap",
        ok=not leaked,
        metric="secret keys in ConfigMap",
        value=len(leaked),
        budget="0",
        detail=", ".join(leaked),
    )


@pytest.mark.criterion("FR-004")
def test_backend_process_sees_service_urls(deployment: Deployment, evidence: EvidenceRecorder) -> None:
    pod = next(
        pod for pod in live.pods(deployment) if checks.pod_label(pod) == "backend" and checks.ready(pod)
    )
    names = [*EXPECTED_BACKEND_ENV, *SECRET_KEYS[:2]]
    script = f"import json, os; print(json.dumps({{k: os.environ.get(k) for k in {names!r}}}))"
    output = exec_in_pod(
        deployment.kube, deployment.namespace, pod["metadata"]["name"], ["python3", "-c", script]
    )
    seen = json.loads(output.strip().splitlines()[-1])
    for key, expected in EXPECTED_BACKEND_ENV.items():
        evidence.check(
            "FR-004",
            f"backend environment {key}",
            ok=seen.get(key) == expected,
            metric=key,
            value=seen.get(key),
            budget=expected,
        )
    for key in SECRET_KEYS[:2]:
        evidence.check(
            "FR-004",
            f"backend environment has {key} from the Secret",
            ok=bool(seen.get(key)),
            metric=f"{key} length",
            value=len(seen.get(key) or ""),
            unit="chars",
            budget="> 0",
        )
