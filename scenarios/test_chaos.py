"""FR-006, FR-007, FR-008, SC-005 and the edge cases, proven by the Chaos Toolkit experiments in
chaos/: each runs as `chaos run` in a process of its own, exactly as a person would run it, and
its journal becomes the evidence (harness.chaosrun). Nothing of the faults is re-implemented here.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from harness.chaos_timeline import record_in_index, write_experiment_page
from harness.chaosrun import ChaosTarget, experiment_criteria, experiment_names, run_experiment
from harness.deploy import Deployment
from harness.providers import Provider
from harness.recorder import EvidenceRecorder
from harness.uptime import UptimeMonitor

EXPERIMENT_TIMEOUT_SECONDS = 420
BACKEND = ("backend", "/api through the ingress")
EVERYTHING = ("frontend", "backend", "mcp-server", "frontend through the ingress", "/api through the ingress")
DISRUPTED_UPTIME_TARGETS: dict[str, tuple[str, ...]] = {
    "backend-kill-under-load": BACKEND,
    "crash-recreates-pod": BACKEND,
    "liveness-restarts-hung-container": BACKEND,
    "readiness-removes-unready-pod": BACKEND,
    "mcp-outage": ("mcp-server",),
    "mcp-outage-pod-kill": ("mcp-server",),
    "postgres-kill-under-writes": (*BACKEND, "mcp-server"),
    "postgres-process-kill-under-writes": (*BACKEND, "mcp-server"),
    "memory-hog-is-contained": EVERYTHING,
    "rolling-update-under-writes": EVERYTHING,
}
"""SC-001 samples each experiment sets apart: only the services it breaks (all for one not listed)."""
ON_THE_NODE = {"postgres-process-kill-under-writes"}
"""Experiments that signal processes on the node itself: only where the pods run on this host."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "experiment" in metafunc.fixturenames:
        metafunc.parametrize(
            "experiment",
            [
                pytest.param(name, marks=pytest.mark.criterion(*experiment_criteria(name)), id=name)
                for name in experiment_names()
            ],
        )


@pytest.fixture(scope="module")
def chaos_target(deployment: Deployment, run_dir: Path) -> ChaosTarget:
    secret = deployment.kube.core.read_namespaced_secret("taskflow-tls", deployment.namespace)
    ca_file = run_dir / "chaos" / "ingress-ca.pem"
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    ca_file.write_bytes(base64.b64decode(secret.data["tls.crt"]))
    return ChaosTarget(
        deployment.namespace,
        deployment.kube.kubeconfig,
        deployment.ingress.address,
        deployment.ingress.port,
        ca_file,
    )


def test_experiment(
    experiment: str,
    chaos_target: ChaosTarget,
    run_dir: Path,
    uptime: UptimeMonitor,
    *,
    evidence: EvidenceRecorder,
    provider: Provider,
) -> None:
    if experiment in ON_THE_NODE and provider.name != "local":
        for criterion in experiment_criteria(experiment):
            evidence.skip(
                criterion,
                f"{experiment}: experiment ran",
                f"it kills a process on the node, which needs the node's process table: provider "
                f"{provider.name} does not run its pods on this host (provider local does)",
            )
        return
    targets = DISRUPTED_UPTIME_TARGETS.get(experiment, EVERYTHING)
    with uptime.disruption(f"chaos experiment {experiment}", targets):
        outcome = run_experiment(
            experiment, chaos_target, run_dir / "chaos" / experiment, timeout=EXPERIMENT_TIMEOUT_SECONDS
        )
    page = write_experiment_page(outcome, run_dir / "chaos" / f"{experiment}.html")
    record_in_index(run_dir, outcome, page)
    for check in outcome.checks:
        evidence.check(
            check.criterion,
            check.check,
            ok=check.ok,
            metric=check.metric,
            value=check.value,
            unit=check.unit,
            budget=check.budget,
            samples=check.samples,
            detail=check.detail,
        )
