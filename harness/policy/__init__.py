"""Policy rules over rendered manifests, one per contract of DESIGN.md, each tied to an FR."""

from __future__ import annotations

from harness.policy.engine import RuleResult, evaluate, violations
from harness.policy.model import Rule, Violation
from harness.policy.rules import ALL_RULES, RULES_BY_ID

__all__ = ["ALL_RULES", "RULES_BY_ID", "Rule", "RuleResult", "Violation", "evaluate", "violations"]
