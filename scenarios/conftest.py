"""Fixtures every scenario shares: the deployed namespace, a probe pod in it, a signed-up user,
and the uptime monitor that runs from deploy-ready to the end of the session (SC-001)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Generator
from typing import Any

import pytest

from harness.deployment import Deployment
from harness.evidence import Evidence, EvidenceLog, Verdict
from harness.ingress_client import fetch, trusting
from harness.probe import Probe
from harness.taskflow_api import BACKEND_URL, ApiUser, sign_up
from harness.uptime import MIN_SAMPLES, UP_WITHIN_SECONDS, PollingSampler, UptimeMonitor, down_times

BACKEND_IMAGE = "localhost/taskflow/backend"
UPTIME_BUDGET = 0.99
BY_NAME = " by service name"
THROUGH_INGRESS = " through the ingress"


@pytest.fixture(scope="session")
def deployment(taskflow: Deployment) -> Deployment:
    return taskflow


@pytest.fixture(scope="session")
def probe(deployment: Deployment) -> Generator[Probe, None, None]:
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


def in_cluster_targets(user: ApiUser) -> dict[str, dict[str, Any]]:
    """What a user's requests hit, by service name from the probe pod (a page, their task list)."""
    auth = {"authorization": f"Bearer {user.token}"}
    return {
        "frontend": {"url": "http://frontend:3000/login"},
        "backend": {"url": f"{BACKEND_URL}/api/{user.user_id}/tasks", "headers": auth},
        "mcp-server": {"url": "http://mcp-server:8080/health"},
    }


def ingress_checks(deployment: Deployment, user: ApiUser, certificate_pem: str) -> dict[str, Any]:
    context = trusting(certificate_pem)
    auth = {"authorization": f"Bearer {user.token}"}

    def check(path: str, headers: dict[str, str]) -> tuple[bool, str]:
        response = fetch(deployment.ingress, path, context, headers=headers, timeout=UP_WITHIN_SECONDS)
        up = 200 <= response.status < 300 and response.seconds <= UP_WITHIN_SECONDS
        return up, f"{response.status} in {response.seconds:.2f}s"

    return {
        "frontend" + THROUGH_INGRESS: lambda: check("/login", {}),
        "/api" + THROUGH_INGRESS: lambda: check(f"/api/{user.user_id}/tasks", auth),
    }


@pytest.fixture(scope="session", autouse=True)
def uptime(
    deployment: Deployment,
    probe: Probe,
    api_user: ApiUser,
    tls_certificate_pem: str,
    evidence_log: EvidenceLog,
) -> Generator[UptimeMonitor, None, None]:
    """SC-001 from deploy-ready to the end of the run: each service by name from the probe pod, and
    the frontend and /api through the ingress, one request per second each."""
    by_name = in_cluster_targets(api_user)
    through_ingress = ingress_checks(deployment, api_user, tls_certificate_pem)
    monitor = UptimeMonitor((*by_name, *through_ingress))
    stop = threading.Event()

    def on_result(target: str, at: float, result: dict[str, Any]) -> None:
        status, seconds = result.get("status"), float(result["seconds"])
        up = status is not None and 200 <= status < 300 and seconds <= UP_WITHIN_SECONDS
        monitor.record(target, at, up, result.get("error") or f"{status} in {seconds:.2f}s")

    stream = probe.watch(by_name, on_result, stop)
    sampler = PollingSampler(monitor, through_ingress)
    sampler.start()
    yield monitor
    stop.set()
    sampler.stop()
    stream.join(timeout=5)
    record_uptime(monitor, evidence_log)


def record_uptime(monitor: UptimeMonitor, evidence_log: EvidenceLog) -> None:
    excluded = monitor.windows_described()
    for target in monitor.targets:
        tally = monitor.tally(target)
        suffix = "" if THROUGH_INGRESS in target else BY_NAME
        check = f"{target} answers 2xx within {UP_WITHIN_SECONDS:.0f} s{suffix}"
        if tally.counted < MIN_SAMPLES:
            evidence_log.record(
                Evidence(
                    "SC-001",
                    check,
                    "uptime",
                    None,
                    "%",
                    f">= {UPTIME_BUDGET * 100:.0f} % of >= {MIN_SAMPLES} samples",
                    Verdict.SKIPPED,
                    f"only {tally.counted} samples (+{tally.excluded} excluded): the run was too short "
                    f"to judge uptime (>= {MIN_SAMPLES} at 1/s)",
                )
            )
            continue
        ratio = tally.ratio or 0.0
        reasons = sorted(set(tally.down_details))[:3]
        evidence_log.record(
            Evidence(
                "SC-001",
                check,
                "uptime",
                round(ratio * 100, 2),
                "%",
                f">= {UPTIME_BUDGET * 100:.0f} % of >= {MIN_SAMPLES} samples",
                Verdict.PASS if ratio >= UPTIME_BUDGET else Verdict.FAIL,
                f"{tally.up} up / {tally.counted} samples at 1/s from deploy-ready; down at "
                f"{down_times(tally.down_at)}{' (' + '; '.join(reasons) + ')' if reasons else ''}; "
                f"{tally.excluded} samples excluded, windows: {excluded}",
            )
        )
