"""reports/<run>/summary.json: the run's verdict per criterion for machines, checked against
harness/summary.schema.json before it is written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from harness.errors import UserError
from harness.evidence import Evidence, LatencyFigures
from harness.verdict import CriterionRow

SUMMARY_FILE = "summary.json"


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        resources.files("harness").joinpath("summary.schema.json").read_text(encoding="utf-8")
    )
    return loaded


def evidence_entry(check: Evidence) -> dict[str, Any]:
    figures = LatencyFigures.of(check.samples)
    return {
        "check": check.check,
        "kind": check.kind.value,
        "metric": check.metric,
        "value": check.value,
        "unit": check.unit,
        "budget": check.budget,
        "verdict": check.verdict.value,
        "samples": {
            "count": figures.count,
            "p50": figures.p50,
            "p95": figures.p95,
            "p99": figures.p99,
            "values": list(check.samples),
        },
    }


def build_summary(
    rows: Sequence[CriterionRow],
    *,
    run: str,
    provider: str | None,
    kubernetes_version: str | None,
    started: str,
    finished: str,
) -> dict[str, Any]:
    return {
        "run": run,
        "provider": provider,
        "kubernetes_version": kubernetes_version,
        "started": started,
        "finished": finished,
        "criteria": [
            {
                "id": row.criterion,
                "title": row.title,
                "verdict": row.verdict.value,
                "reason": row.summary,
                "evidence": [evidence_entry(check) for check in row.checks],
            }
            for row in rows
        ],
    }


def validate_summary(summary: dict[str, Any]) -> None:
    """Raise UserError (one line) when the summary does not meet its schema."""
    try:
        jsonschema.validate(summary, schema(), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise UserError(
            f"summary.json fails its schema at {where}: {error.message}",
            where="harness/summary.schema.json",
            fix="record evidence through EvidenceRecorder so every field has its type",
        ) from None


def write_summary(run_dir: Path, summary: dict[str, Any]) -> Path:
    validate_summary(summary)
    path = run_dir / SUMMARY_FILE
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path
