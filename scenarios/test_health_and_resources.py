"""FR-006 health checks and FR-007 resource requests/limits on every live container."""

from __future__ import annotations

import pytest

from harness import checks, live
from harness.deploy import Deployment
from harness.probe import Probe
from harness.recorder import EvidenceRecorder

HEALTH_ENDPOINTS = {
    "frontend liveness/readiness": "http://frontend:3000/api/health",
    "backend liveness": "http://backend:8000/healthz",
    "backend readiness": "http://backend:8000/readyz",
    "mcp-server health": "http://mcp-server:8080/health",
}


@pytest.mark.criterion("FR-006")
def test_every_container_has_liveness_and_readiness(
    deployment: Deployment, evidence: EvidenceRecorder
) -> None:
    problems = checks.probe_problems(live.pods(deployment))
    evidence.check(
        "FR-006",
        "liveness and readiness probes on every container",
        ok=not problems,
        metric="containers without probes",
        value=len(problems),
        budget="0",
        detail="; ".join(problems),
    )


@pytest.mark.criterion("FR-006")
@pytest.mark.parametrize("endpoint", list(HEALTH_ENDPOINTS))
def test_health_endpoint_answers(endpoint: str, probe: Probe, evidence: EvidenceRecorder) -> None:
    response = probe.request(HEALTH_ENDPOINTS[endpoint])
    evidence.check(
        "FR-006",
        f"{endpoint} endpoint",
        ok=response.get("status") == 200,
        metric="HTTP status",
        value=response.get("status"),
        budget="200",
        detail=response.get("error") or (response.get("body") or "")[:200],
    )


@pytest.mark.criterion("FR-007")
def test_every_container_has_requests_and_limits(deployment: Deployment, evidence: EvidenceRecorder) -> None:
    problems = checks.resource_problems(live.pods(deployment))
    evidence.check(
        "FR-007",
        "cpu and memory requests and limits on every container",
        ok=not problems,
        metric="missing settings",
        value=len(problems),
        budget="0",
        detail="; ".join(problems),
    )
