"""What a rule is, what it finds, and how a finding reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.policy.objects import Manifests


@dataclass(frozen=True)
class Finding:
    """One breach of a rule, as a check reports it."""

    subject: str
    problem: str
    fix: str | None = None


@dataclass(frozen=True)
class Violation:
    rule_id: str
    requirement: str
    subject: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem} [{self.rule_id}, {self.requirement}] (fix: {self.fix})"


Check = Callable[[Manifests], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One contract of DESIGN.md / docs/contracts.md, checked on rendered objects."""

    id: str
    requirement: str
    contract: str
    fix: str
    check: Check

    def evaluate(self, manifests: Manifests) -> list[Violation]:
        try:
            findings = list(self.check(manifests))
        except (TypeError, AttributeError, KeyError, ValueError, IndexError) as error:
            # A malformed object (schema violation) must not hide the other rules' verdicts.
            findings = [
                Finding(
                    "manifests",
                    f"could not be evaluated on a malformed object ({type(error).__name__}: {error})",
                    "fix the K8S-SCHEMA violations first",
                )
            ]
        return [
            Violation(self.id, self.requirement, finding.subject, finding.problem, finding.fix or self.fix)
            for finding in findings
        ]


def rule(rule_id: str, requirement: str, contract: str, fix: str) -> Callable[[Check], Rule]:
    """Declare a check function as a rule."""

    def declare(check: Check) -> Rule:
        return Rule(rule_id, requirement, contract, fix, check)

    return declare
