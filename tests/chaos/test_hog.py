"""The noisy neighbour's pod and the check of what the namespace's LimitRange gave it."""

from __future__ import annotations

from kubernetes import client
from taskflow_chaos.hog import defaults_check, hog_pod


def test_a_hog_without_own_limits_asks_for_nothing() -> None:
    container = hog_pod("hog", "image", ["python"], None)["spec"]["containers"][0]
    assert "resources" not in container


def test_a_hog_with_own_limits_requests_what_it_may_use() -> None:
    limits = {"cpu": "250m", "memory": "64Mi"}
    container = hog_pod("hog", "image", ["python"], limits)["spec"]["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "64Mi"},
        "limits": {"cpu": "250m", "memory": "64Mi"},
    }


def test_defaults_from_the_limitrange_pass() -> None:
    admitted = client.V1ResourceRequirements(limits={"cpu": "500m", "memory": "256Mi"})
    result = defaults_check("memory", "EDGE-CONTENTION", admitted)
    assert result["ok"] is True
    assert result["value"] == "cpu 500m, memory 256Mi"
    assert result["criterion"] == "EDGE-CONTENTION"


def test_an_unbounded_hog_fails_and_says_what_is_missing() -> None:
    cpu_only = client.V1ResourceRequirements(limits={"cpu": "1"})
    for admitted in (None, client.V1ResourceRequirements(), cpu_only):
        result = defaults_check("memory", "EDGE-CONTENTION", admitted)
        assert result["ok"] is False
        assert "memory" in result["detail"]
    assert defaults_check("cpu", "EDGE-CONTENTION", None)["value"] == "none"
