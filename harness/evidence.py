"""Evidence: what each check measured, against which budget, with which verdict.

The report is built from these records, never from test names. Records are appended as JSON lines
so a run that dies half-way still leaves what it measured; each run writes a log of its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.criteria import check_criterion
from harness.errors import UserError


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"


class Kind(StrEnum):
    """Where a check's proof comes from: measured on the running deployment, or read from manifests."""

    LIVE = "live"
    STATIC = "static"


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
    kind: Kind = Kind.LIVE

    def __post_init__(self) -> None:
        check_criterion(self.criterion)
        if self.verdict is Verdict.SKIPPED and not self.detail:
            raise ValueError(f"{self.check}: a skipped check must say why (detail)")

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["verdict"] = self.verdict.value
        record["kind"] = self.kind.value
        record["samples"] = list(self.samples)
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Evidence:
        """The record as Evidence; ValueError/TypeError/KeyError say what is wrong with it."""
        for key in ("criterion", "check", "metric", "unit", "budget", "detail"):
            if not isinstance(record[key], str):
                raise TypeError(f"{key} must be a string, not {record[key]!r}")
        samples = record.get("samples", [])
        if not isinstance(samples, list) or not all(
            isinstance(sample, int | float) and not isinstance(sample, bool) for sample in samples
        ):
            raise TypeError("samples must be a list of numbers")
        value = record["value"]
        if value is not None and not isinstance(value, int | float | str):
            raise TypeError(f"value must be a number, a string or null, not {value!r}")
        return cls(
            criterion=record["criterion"],
            check=record["check"],
            metric=record["metric"],
            value=value,
            unit=record["unit"],
            budget=record["budget"],
            verdict=Verdict(record["verdict"]),
            detail=record["detail"],
            samples=tuple(float(sample) for sample in samples),
            kind=Kind(record.get("kind", Kind.LIVE.value)),
        )


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction in 0..1) of non-empty samples: the smallest sample
    with at least `fraction` of all samples at or below it (never an interpolation)."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = max(math.ceil(round(fraction * len(ordered), 9)), 1)
    return float(ordered[min(rank, len(ordered)) - 1])


@dataclass(frozen=True)
class LatencyFigures:
    """What every latency check reports: sample count and nearest-rank p50/p95/p99."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, samples: Sequence[float]) -> LatencyFigures:
        if not samples:
            return cls(0, None, None, None)
        return cls(len(samples), *(round(percentile(samples, f), 3) for f in (0.5, 0.95, 0.99)))

    def describe(self, unit: str) -> str:
        if not self.count:
            return "no samples"
        return f"p50 {self.p50:g} / p95 {self.p95:g} / p99 {self.p99:g} {unit} over {self.count} samples"


class MalformedEvidenceError(UserError):
    """An evidence line that is not JSON of an Evidence record."""


class EvidenceLog:
    """The append-only evidence file of one run."""

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
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    yield Evidence.from_json(json.loads(line))
                except (ValueError, TypeError, KeyError) as error:
                    raise MalformedEvidenceError(
                        f"malformed evidence record ({type(error).__name__}: {error})",
                        where=f"{self.path}:{number}",
                        fix="record evidence through EvidenceRecorder.check/.skip, never by hand",
                    ) from None
