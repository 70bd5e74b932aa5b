"""The distributed load run's objects, checked without a cluster: the pods pass the restricted
securityContext rules the Taskflow manifests are held to, everything carries the run's label (so
cleanup finds it), and the network opens only master <-> workers and Locust -> backend:8000."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import UserError
from harness.load_cluster import RUN_LABEL, manifests, master_script, new_pods, worker_command
from harness.policy import security
from harness.policy.objects import Manifests

SHAPE = ["--stress", "--shape", "steps", "--step-users", "10"]


def as_deployment(pod: dict[str, Any]) -> dict[str, Any]:
    """A bare Pod seen as a workload, so the policy rules (which read pod templates) check it."""
    template = {"metadata": pod["metadata"], "spec": pod["spec"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": pod["metadata"],
        "spec": {"template": template},
    }


def test_locust_pods_pass_the_restricted_security_rules() -> None:
    objects = manifests(new_pods("taskflow-x", "localhost/taskflow/locust:0.1.0", 2), SHAPE)
    pods = [obj for obj in objects if obj["kind"] == "Pod"]
    assert len(pods) == 3
    checked = Manifests([as_deployment(pod) for pod in pods])
    rules = (
        security.run_as_non_root, security.read_only_root, security.no_privilege_escalation,
        security.drop_all_capabilities, security.seccomp_runtime_default, security.no_host_access,
    )  # fmt: skip
    findings = [violation for rule in rules for violation in rule.evaluate(checked)]
    assert findings == []
    for pod in pods:
        resources = pod["spec"]["containers"][0]["resources"]
        assert set(resources["requests"]) >= {"cpu", "memory"} and set(resources["limits"]) >= {
            "cpu",
            "memory",
        }
        assert pod["spec"]["automountServiceAccountToken"] is False


def test_every_object_carries_the_run_label_and_the_policies_open_only_what_locust_needs() -> None:
    locust_pods = new_pods("taskflow-x", "img", 2)
    objects = manifests(locust_pods, SHAPE)
    assert {obj["metadata"]["labels"][RUN_LABEL] for obj in objects} == {locust_pods.run_id}
    assert {obj["metadata"]["namespace"] for obj in objects} == {"taskflow-x"}
    policies = {obj["metadata"]["name"]: obj["spec"] for obj in objects if obj["kind"] == "NetworkPolicy"}
    locust = policies[f"locust-{locust_pods.run_id}"]
    assert [rule["ports"] for rule in locust["egress"]] == [[{"port": 5557}], [{"port": 8000}]]
    assert locust["ingress"][0]["ports"] == [{"port": 5557}]
    backend = policies[f"backend-from-locust-{locust_pods.run_id}"]
    assert backend["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "backend"}}
    files = next(obj for obj in objects if obj["kind"] == "ConfigMap")
    assert set(files["data"]) == {"locustfile.py", "taskflow_profiles.py"}


def test_master_runs_the_shape_and_workers_only_the_user_class() -> None:
    locust_pods = new_pods("ns", "img", 3)
    script = master_script(locust_pods, SHAPE)
    assert "--master" in script and "--expect-workers 3" in script and "--shape steps" in script
    assert "--summary-file /out/locust-summary.json" in script and "echo $? > /out/exit-code" in script
    worker = worker_command(locust_pods, SHAPE)
    assert "--worker" in worker and "--stress" in worker and "--shape" not in worker
    assert worker[worker.index("--master-host") + 1] == f"locust-master-{locust_pods.run_id}"
    assert "--stress" not in worker_command(locust_pods, ["--shape", "ramp100"])


def test_no_workers_is_refused() -> None:
    with pytest.raises(UserError, match="at least one worker"):
        new_pods("ns", "img", 0)
