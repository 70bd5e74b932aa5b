"""The run report: one row per FR/SC with verdict and numbers, built from evidence."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.criteria import CRITERIA
from harness.evidence import Evidence, EvidenceLog, Verdict, percentile

HISTOGRAM_BINS = 20
HISTOGRAM_SIZE = (360, 90)


@dataclass(frozen=True)
class CriterionRow:
    criterion: str
    title: str
    verdict: Verdict
    summary: str
    checks: tuple[Evidence, ...]


def criterion_verdict(checks: Sequence[Evidence]) -> tuple[Verdict, str]:
    """Fail if any check failed, pass if at least one passed and none failed, else skipped."""
    if not checks:
        return Verdict.SKIPPED, "skipped: no check of this criterion ran"
    failed = [check for check in checks if check.verdict is Verdict.FAIL]
    passed = [check for check in checks if check.verdict is Verdict.PASS]
    if failed:
        return Verdict.FAIL, f"{len(failed)} of {len(checks)} checks failed"
    if passed:
        skipped = len(checks) - len(passed)
        suffix = f", {skipped} skipped" if skipped else ""
        return Verdict.PASS, f"{len(passed)} of {len(checks)} checks passed{suffix}"
    reasons = "; ".join(sorted({check.detail for check in checks}))
    return Verdict.SKIPPED, f"skipped: {reasons}"


def criterion_rows(evidence: Iterable[Evidence]) -> list[CriterionRow]:
    by_criterion: dict[str, list[Evidence]] = {criterion: [] for criterion in CRITERIA}
    for record in evidence:
        by_criterion[record.criterion].append(record)
    rows = []
    for criterion, checks in by_criterion.items():
        verdict, summary = criterion_verdict(checks)
        rows.append(CriterionRow(criterion, CRITERIA[criterion], verdict, summary, tuple(checks)))
    return rows


def histogram_svg(samples: Sequence[float], unit: str) -> str:
    """A small inline SVG histogram of samples, with p50/p95 marked; empty for < 2 samples."""
    if len(samples) < 2:
        return ""
    width, height = HISTOGRAM_SIZE
    low, high = min(samples), max(samples)
    span = (high - low) or 1.0
    counts = [0] * HISTOGRAM_BINS
    for sample in samples:
        counts[min(int((sample - low) / span * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
    bar_width = width / HISTOGRAM_BINS
    tallest = max(counts)
    bars = "".join(
        f'<rect x="{index * bar_width:.1f}" y="{height - 14 - count / tallest * (height - 24):.1f}" '
        f'width="{bar_width - 1:.1f}" height="{count / tallest * (height - 24):.1f}" class="bar"/>'
        for index, count in enumerate(counts)
    )
    marks = ""
    for label, fraction in (("p50", 0.5), ("p95", 0.95)):
        value = percentile(samples, fraction)
        x = (value - low) / span * width
        marks += (
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 14}" class="mark"/>'
            f'<text x="{x + 2:.1f}" y="10" class="label">{label} {value:.3g}</text>'
        )
    axis = (
        f'<text x="0" y="{height - 2}" class="label">{low:.3g} {html.escape(unit)}</text>'
        f'<text x="{width}" y="{height - 2}" text-anchor="end" class="label">{high:.3g}</text>'
    )
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="histogram">{bars}{marks}{axis}</svg>'
    )


def write_report(run_dir: Path, *, title: str, context: dict[str, str], links: dict[str, str]) -> Path:
    """Render run_dir/index.html from run_dir/evidence.jsonl and return its path."""
    rows = criterion_rows(EvidenceLog(run_dir / "evidence.jsonl"))
    environment = Environment(loader=PackageLoader("harness"), autoescape=select_autoescape(["html"]))
    environment.globals["histogram_svg"] = histogram_svg
    page = environment.get_template("report.html.j2").render(
        title=title,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        context=context,
        links={name: target for name, target in links.items() if (run_dir / target).exists()},
        rows=rows,
        totals={verdict.value: sum(row.verdict is verdict for row in rows) for verdict in Verdict},
    )
    index = run_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
