"""The contract rules of harness.policy over exactly what this run applied (FR-001..FR-010)."""

from __future__ import annotations

import pytest

from harness.deploy import Deployment
from harness.policy.engine import evaluate
from harness.recorder import EvidenceRecorder


@pytest.mark.criterion(
    "FR-001", "FR-002", "FR-003", "FR-004", "FR-005", "FR-006", "FR-007", "FR-008", "FR-009", "FR-010"
)
def test_applied_manifests_meet_every_contract_rule(
    deployment: Deployment, evidence: EvidenceRecorder
) -> None:
    for result in evaluate(deployment.manifests):
        evidence.check(
            result.rule.requirement,
            f"manifest rule {result.rule.id}: {result.rule.contract}",
            ok=result.passed,
            metric="violations",
            value=len(result.violations),
            budget="0",
            detail="; ".join(str(violation) for violation in result.violations)[:600],
        )
