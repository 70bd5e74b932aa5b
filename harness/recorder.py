"""What a scenario test uses to record evidence; failures fail the test after it has run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import pytest

from harness.evidence import Evidence, EvidenceLog, Kind, LatencyFigures, Verdict, percentile


class ChecksFailedError(AssertionError):
    """Raised after a test whose recorded checks failed (the failures are already evidence)."""


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
        kind: str = "live",
    ) -> bool:
        """Record one measured check; returns ok so callers can branch on it.

        kind: "live" (measured on the running deployment) or "static" (read from manifests).
        """
        verdict = Verdict.PASS if ok else Verdict.FAIL
        evidence = Evidence(
            criterion, check, metric, value, unit, budget, verdict, detail, tuple(samples), Kind(kind)
        )
        self.recorded.append(self.log.record(evidence))
        return ok

    def latency(
        self,
        criterion: str,
        check: str,
        samples: Sequence[float],
        *,
        budget: float,
        unit: str = "ms",
        fraction: float = 0.99,
        min_samples: int,
        detail: str = "",
    ) -> bool:
        """Record a latency check: the nearest-rank percentile `fraction` of samples must be under
        budget, on at least min_samples samples; the detail carries p50/p95/p99 and the count."""
        figures = LatencyFigures.of(samples)
        label = f"p{round(fraction * 100)}"
        value = None
        if samples:
            value = round(percentile(samples, fraction), 3)
        enough = figures.count >= min_samples
        ok = enough and value is not None and value < budget
        described = figures.describe(unit)
        if not enough:
            described = f"only {figures.count} samples, need >= {min_samples}; {described}"
        return self.check(
            criterion,
            check,
            ok=ok,
            metric=label,
            value=value,
            unit=unit,
            budget=f"{label} < {budget:g} {unit}, >= {min_samples} samples",
            samples=samples,
            detail="; ".join(part for part in (described, detail) if part),
        )

    def skip(self, criterion: str, check: str, reason: str, *, kind: str = "live") -> NoReturn:
        """Record that a check cannot run here, and why; then skip the test."""
        evidence = Evidence(criterion, check, "-", None, "", "", Verdict.SKIPPED, reason, (), Kind(kind))
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
