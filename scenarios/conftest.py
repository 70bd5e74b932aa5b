"""Fixtures every scenario shares: the deployed namespace, a probe pod in it, a signed-up user,
and the uptime monitor that runs for the whole session (SC-001)."""

from __future__ import annotations

import base64
from collections.abc import Generator

import pytest

from harness import live
from harness.deploy import Deployment
from harness.evidence import Evidence, EvidenceLog, Verdict
from harness.probe import Probe
from harness.taskflow_api import ApiUser, sign_up
from harness.uptime import UptimeMonitor

BACKEND_IMAGE = "localhost/taskflow/backend"
MONITORED_SERVICES = ("frontend", "backend", "mcp-server")
UPTIME_BUDGET = 0.99


@pytest.fixture(scope="session")
def deployment(taskflow: Deployment) -> Deployment:
    return taskflow


def down_times(offsets: list[float], shown: int = 8) -> str:
    if not offsets:
        return "never"
    listed = ", ".join(f"+{offset:.0f}s" for offset in offsets[:shown])
    return listed + (f" and {len(offsets) - shown} more" if len(offsets) > shown else "")


@pytest.fixture(scope="session")
def uptime(deployment: Deployment, evidence_log: EvidenceLog) -> Generator[UptimeMonitor, None, None]:
    """Samples each service's ready endpoints every second from deployment to the end of the run."""
    monitor = UptimeMonitor(
        MONITORED_SERVICES, lambda service: live.ready_endpoint_count(deployment, service) > 0
    )
    monitor.start()
    yield monitor
    monitor.stop()
    excluded = "; ".join(monitor.disruptions) or "none"
    for service, tally in monitor.tallies.items():
        ratio = tally.ratio
        evidence_log.record(
            Evidence(
                "SC-001",
                f"{service} has a ready endpoint during the run",
                "uptime",
                round(ratio * 100, 2) if ratio is not None else None,
                "%",
                f">= {UPTIME_BUDGET * 100:.0f} %",
                Verdict.PASS if ratio is not None and ratio >= UPTIME_BUDGET else Verdict.FAIL,
                f"{tally.up} up / {tally.counted} samples at 1/s; down at {down_times(tally.down_at)}; "
                f"{tally.excluded} samples excluded during announced disruptions: {excluded}",
            )
        )


@pytest.fixture(scope="session")
def probe(deployment: Deployment, uptime: UptimeMonitor) -> Generator[Probe, None, None]:
    """A pod with Python in the namespace under test (the backend image, command replaced)."""
    in_cluster = Probe(deployment.kube, deployment.namespace)
    in_cluster.start(deployment.images[BACKEND_IMAGE])
    yield in_cluster


@pytest.fixture(scope="session")
def api_user(probe: Probe) -> ApiUser:
    return sign_up(probe)


@pytest.fixture(scope="session")
def tls_certificate_pem(deployment: Deployment) -> str:
    """The run's ingress certificate (Secret taskflow-tls), PEM."""
    secret = deployment.kube.core.read_namespaced_secret("taskflow-tls", deployment.namespace)
    return base64.b64decode(secret.data["tls.crt"]).decode()
