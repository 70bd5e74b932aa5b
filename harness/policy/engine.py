"""Run rules over rendered objects and collect the verdict of each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.policy.model import Rule, Violation
from harness.policy.objects import Manifest, Manifests
from harness.policy.rules import ALL_RULES


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    violations: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return not self.violations


def evaluate(objects: Sequence[Manifest], rules: Iterable[Rule] = ALL_RULES) -> list[RuleResult]:
    manifests = Manifests(tuple(objects))
    return [RuleResult(rule, tuple(rule.evaluate(manifests))) for rule in rules]


def violations(results: Iterable[RuleResult]) -> list[Violation]:
    return [violation for result in results for violation in result.violations]
