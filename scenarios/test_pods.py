"""FR-001: the three services run as separate pods."""

from __future__ import annotations

import pytest

from harness import checks, live
from harness.deploy import Deployment
from harness.recorder import EvidenceRecorder


@pytest.mark.criterion("FR-001", "SC-001")
def test_each_service_runs_in_its_own_ready_pods(deployment: Deployment, evidence: EvidenceRecorder) -> None:
    pods = live.pods(deployment)
    problems = checks.separate_pods_problems(pods)
    evidence.check(
        "FR-001",
        "frontend, backend and mcp-server in separate ready pods",
        ok=not problems,
        metric="problems",
        value=len(problems),
        budget="0",
        detail="; ".join(problems) or f"{checks.ready_pods_per_service(pods)} ready",
    )
    rollout = deployment.timings.get("rollout ready", 0.0)
    evidence.check(
        "SC-001",
        "all services deployed and ready after apply",
        ok=not problems,
        metric="rollout time",
        value=rollout,
        unit="s",
        budget="<= 300 s",
    )
