"""Evidence: what each check measured, against which budget, with which verdict.

The report is built from these records, never from test names. Records are appended as JSON lines
so a run that dies half-way still leaves what it measured.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.criteria import check_criterion


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Evidence:
    criterion: str
    check: str
    metric: str
    value: float | str | None
    unit: str
    budget: str
    verdict: Verdict
    detail: str = ""
    samples: Sequence[float] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        check_criterion(self.criterion)
        if self.verdict is Verdict.SKIPPED and not self.detail:
            raise ValueError(f"{self.check}: a skipped check must say why (detail)")

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["verdict"] = self.verdict.value
        record["samples"] = list(self.samples)
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Evidence:
        return cls(**{**record, "verdict": Verdict(record["verdict"]), "samples": tuple(record["samples"])})


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction in 0..1) of non-empty samples."""
    if not samples:
        raise ValueError("percentile of no samples")
    if len(samples) == 1:
        return float(samples[0])
    cut_points = statistics.quantiles(samples, n=100, method="inclusive")
    index = min(max(round(fraction * 100) - 1, 0), len(cut_points) - 1)
    return cut_points[index]


class EvidenceLog:
    """Append-only evidence file of one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, evidence: Evidence) -> Evidence:
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(evidence.to_json()) + "\n")
        return evidence

    def __iter__(self) -> Iterator[Evidence]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as stream:
            for line in stream:
                if line.strip():
                    yield Evidence.from_json(json.loads(line))
