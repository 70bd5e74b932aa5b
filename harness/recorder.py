"""What a scenario test uses to record evidence; failures fail the test after it has run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import pytest

from harness.evidence import Evidence, EvidenceLog, Verdict


@dataclass
class EvidenceRecorder:
    log: EvidenceLog
    test_id: str
    recorded: list[Evidence] = field(default_factory=list)

    def check(
        self,
        criterion: str,
        check: str,
        *,
        ok: bool,
        metric: str,
        value: float | str | None,
        unit: str = "",
        budget: str = "",
        samples: Sequence[float] = (),
        detail: str = "",
    ) -> bool:
        """Record one measured check; returns ok so callers can branch on it."""
        verdict = Verdict.PASS if ok else Verdict.FAIL
        evidence = Evidence(criterion, check, metric, value, unit, budget, verdict, detail, tuple(samples))
        self.recorded.append(self.log.record(evidence))
        return ok

    def skip(self, criterion: str, check: str, reason: str) -> NoReturn:
        """Record that a check cannot run here, and why; then skip the test."""
        evidence = Evidence(criterion, check, "-", None, "", "", Verdict.SKIPPED, reason)
        self.recorded.append(self.log.record(evidence))
        pytest.skip(f"{check}: {reason}")

    @property
    def failures(self) -> list[str]:
        return [
            f"{item.criterion} {item.check}: {item.metric}={item.value}{item.unit} (budget {item.budget})"
            + (f" — {item.detail}" if item.detail else "")
            for item in self.recorded
            if item.verdict is Verdict.FAIL
        ]

    def criteria_recorded(self) -> set[str]:
        return {item.criterion for item in self.recorded}
