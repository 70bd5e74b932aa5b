"""The run report: one row per FR/SC with verdict and numbers, built from evidence."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.evidence import LatencyFigures, Verdict, percentile
from harness.verdict import CriterionRow, attention_first, criterion_rows, criterion_verdict

__all__ = ["CriterionRow", "criterion_rows", "criterion_verdict", "histogram_svg", "write_report"]

HISTOGRAM_BINS = 20
HISTOGRAM_SIZE = (360, 90)


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
    for label, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
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


def run_files(run_dir: Path, expected: Iterable[str]) -> list[str]:
    """Every file of the run (relative paths), plus files other plugins write after the report."""
    present = {
        str(path.relative_to(run_dir))
        for path in run_dir.rglob("*")
        if path.is_file() and path.name != "index.html"
    }
    return sorted(present | set(expected))


def write_report(
    run_dir: Path,
    rows: Sequence[CriterionRow],
    *,
    title: str,
    context: dict[str, str],
    expected_files: Iterable[str] = (),
) -> Path:
    """Render run_dir/index.html from the verdict rows and return its path."""
    # The template is report.html.j2: escaping keyed on "html" alone would leave it off, and a budget
    # such as "503 + Retry-After: <seconds>" would vanish into a tag.
    environment = Environment(
        loader=PackageLoader("harness"), autoescape=select_autoescape(["html", "html.j2"])
    )
    environment.globals["histogram_svg"] = histogram_svg
    environment.globals["figures"] = LatencyFigures.of
    page = environment.get_template("report.html.j2").render(
        title=title,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        context=context,
        files=run_files(run_dir, expected_files),
        plots=sorted(path.name for path in run_dir.glob("*.svg")),
        rows=attention_first(rows),
        totals={verdict.value: sum(row.verdict is verdict for row in rows) for verdict in Verdict},
    )
    index = run_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
