"""One HTML page per chaos experiment: a timeline (fault and recovery marks, request latency and
failures over time) drawn with matplotlib as SVG, its checks, and links to the journal and logs;
plus `chaos.html`, the index the run report links to."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from harness.chaosrun import ExperimentOutcome

INDEX_NAME = "chaos.html"
SUMMARY_NAME = "chaos.json"
FAULT_ACTION_COLOUR = "#f4b6b0"


def traffic_samples(output_dir: Path) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    for path in sorted(output_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as stream:
            samples.extend(json.loads(line) for line in stream if line.strip())
    return samples


def timeline_svg(outcome: ExperimentOutcome, samples: Sequence[dict[str, Any]]) -> str:
    starts = [activity.start for activity in outcome.activities if activity.start] + [
        s["at"] for s in samples
    ]
    if not starts:
        return ""
    origin = min(starts)
    figure, (latency, failures) = plt.subplots(
        2, 1, figsize=(10, 4.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    for activity in outcome.activities:
        if activity.kind == "action" and activity.start:
            for axis in (latency, failures):
                axis.axvspan(
                    activity.start - origin,
                    max(activity.end, activity.start + 0.3) - origin,
                    color=FAULT_ACTION_COLOUR,
                    alpha=0.6,
                    lw=0,
                )
            latency.annotate(
                activity.name,
                (activity.start - origin, 1),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color="#8c1d18",
            )
    for point in outcome.events:
        for axis in (latency, failures):
            axis.axvline(point.at - origin, color="#2f6f3e", lw=0.8, ls="--")
        latency.annotate(
            point.what[:40],
            (point.at - origin, 0.02),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="bottom",
            ha="left",
            fontsize=7,
            color="#2f6f3e",
        )
    ok = [s for s in samples if s["ok"]]
    bad = [s for s in samples if not s["ok"]]
    latency.scatter([s["at"] - origin for s in ok], [s["seconds"] * 1000 for s in ok], s=4, label="answered")
    latency.scatter(
        [s["at"] - origin for s in bad],
        [s["seconds"] * 1000 for s in bad],
        s=14,
        marker="x",
        color="#c23b22",
        label="failed",
    )
    latency.set_ylabel("latency (ms)")
    if samples:
        latency.set_yscale("log")
        latency.legend(loc="upper right", fontsize=7)
    per_second: dict[int, int] = {}
    for sample in bad:
        second = int(sample["at"] - origin)
        per_second[second] = per_second.get(second, 0) + 1
    failures.bar(list(per_second), list(per_second.values()), width=1.0, align="edge", color="#c23b22")
    failures.set_ylabel("failed/s")
    failures.set_xlabel("seconds since the experiment started (shaded: actions; dashed: observed events)")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _cells(*texts: str) -> str:
    return "".join(f"<td>{html.escape(str(text))}</td>" for text in texts)


def _row(css_class: str, *texts: str) -> str:
    return f"<tr class={css_class}>{_cells(*texts)}</tr>"


def write_experiment_page(outcome: ExperimentOutcome, page: Path) -> Path:
    output_dir = outcome.output_dir or page.parent
    samples = traffic_samples(output_dir)
    rows = "".join(
        _row(
            "pass" if check.ok else "fail",
            "pass" if check.ok else "FAIL",
            check.criterion,
            check.check,
            f"{check.metric} = {check.value} {check.unit}",
            check.budget,
            check.detail,
        )
        for check in outcome.checks
    )
    facts = "".join(
        f"<li>{html.escape(key)}: <b>{html.escape(str(value))}</b></li>"
        for key, value in outcome.facts.items()
    )
    relative = output_dir.relative_to(page.parent) if output_dir.is_relative_to(page.parent) else output_dir
    links = " · ".join(
        f'<a href="{html.escape(str(relative / name))}">{name}</a>'
        for name in (
            "journal.json",
            "chaos.log",
            "console.log",
            *(path.name for path in sorted(output_dir.glob("*.jsonl"))),
        )
        if (output_dir / name).exists()
    )
    page.write_text(
        "<!doctype html><meta charset=utf-8><title>chaos: {name}</title>"
        "<style>body{{font:14px system-ui;margin:2rem auto;max-width:72rem}}"
        "td{{padding:.2rem .4rem;vertical-align:top}}"
        ".pass{{background:#e3f5e6}}.fail{{background:#fde5e4}}code{{font-size:12px}}</style>"
        "<h1>{name}</h1><p>status <b>{status}</b> · wall {wall} s · criteria {criteria} · {links}</p>{svg}"
        "<h2>Checks</h2><table>{rows}</table><h2>Figures</h2><ul>{facts}</ul>".format(
            name=html.escape(outcome.name),
            status=html.escape(outcome.status),
            wall=outcome.wall_seconds,
            criteria=", ".join(outcome.criteria),
            links=links,
            svg=timeline_svg(outcome, samples),
            rows=rows,
            facts=facts,
        ),
        encoding="utf-8",
    )
    return page


def record_in_index(run_dir: Path, outcome: ExperimentOutcome, page: Path) -> Path:
    """Add the experiment to run_dir/chaos.json and rewrite run_dir/chaos.html from it."""
    summary_path = run_dir / SUMMARY_NAME
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else []
    summary = [entry for entry in summary if entry["name"] != outcome.name]
    summary.append(
        {
            "name": outcome.name,
            "status": outcome.status,
            "criteria": list(outcome.criteria),
            "wall_seconds": outcome.wall_seconds,
            "failed_checks": sum(not check.ok for check in outcome.checks),
            "checks": len(outcome.checks),
            "page": str(page.relative_to(run_dir)),
            "facts": outcome.facts,
            "events": [asdict(point) for point in outcome.events],
        }
    )
    summary_path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    total = sum(entry["wall_seconds"] for entry in summary)
    rows = "".join(
        f"<tr class={'fail' if entry['failed_checks'] else 'pass'}>"
        f'<td><a href="{html.escape(entry["page"])}">{html.escape(entry["name"])}</a></td>'
        + _cells(
            entry["status"],
            ", ".join(entry["criteria"]),
            f"{entry['checks'] - entry['failed_checks']}/{entry['checks']} checks pass",
            f"{entry['wall_seconds']} s",
        )
        + "</tr>"
        for entry in summary
    )
    index = run_dir / INDEX_NAME
    index.write_text(
        "<!doctype html><meta charset=utf-8><title>chaos experiments</title>"
        "<style>body{font:14px system-ui;margin:2rem auto;max-width:60rem}td{padding:.2rem .5rem}"
        ".pass{background:#e3f5e6}.fail{background:#fde5e4}</style>"
        f"<h1>Chaos Toolkit experiments</h1><p>{len(summary)} experiments, {total:.0f} s wall in all</p>"
        f"<table><tr><th>experiment</th><th>status</th><th>criteria</th><th>checks</th><th>wall</th></tr>{rows}</table>",
        encoding="utf-8",
    )
    return index
