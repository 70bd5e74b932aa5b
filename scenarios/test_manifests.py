"""The contract rules of harness.policy, and kube-score's second opinion, over exactly what this run
applied (FR-001..FR-010)."""

from __future__ import annotations

import pytest

from harness.deploy import Deployment
from harness.policy.engine import evaluate
from harness.policy.kubescore import KUBE_SCORE
from harness.policy.peer import peer_review
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
            kind="static",
        )


@pytest.mark.criterion("FR-001", "FR-002", "FR-003", "FR-004", "FR-005", "FR-006", "FR-007", "FR-009")
def test_applied_manifests_pass_the_kube_score_gate(
    deployment: Deployment, evidence: EvidenceRecorder
) -> None:
    verdict = peer_review(deployment.manifests)
    for requirement in verdict.requirements():
        findings = verdict.findings_for(requirement)
        blocking = [finding for finding in findings if finding.blocking]
        noted = [finding for finding in findings if not finding.blocking]
        said = "; ".join(
            [
                *(str(finding) for finding in blocking),
                f"checks {', '.join(verdict.checks_for(requirement))}",
                *(str(item) for item in [*noted, *verdict.stale_for(requirement)]),
            ]
        )
        evidence.check(
            requirement,
            f"kube-score {KUBE_SCORE.version}: no unwaived CRITICAL finding",
            ok=not blocking,
            metric="unwaived CRITICAL",
            value=len(blocking),
            budget="0",
            detail=said[:600],
            kind="static",
        )
