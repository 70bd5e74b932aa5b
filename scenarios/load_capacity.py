"""Capacity search (`nox -s load -- capacity`; not part of conformance: the file name keeps pytest
from collecting it unless it is named). Locust's `steps` shape with StressUser (no think time)
adds users every step until a step breaks SC-004's budget; per step it reports users, RPS, p95,
failures and RPS per ready backend replica, printed and plotted."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from harness.deploy import Deployment
from harness.load_cluster import left_over, locust_image, new_pods, run_locust_in_cluster
from harness.load_sampler import ClusterSample, ingress_target, metrics_api_missing, sampling
from harness.loadplot import plot_capacity, plot_load_run
from harness.loadrun import run_locust
from harness.plugin import progress_shown
from harness.providers import Provider
from harness.recorder import EvidenceRecorder

STEP_USERS = int(os.environ.get("TASKFLOW_CAPACITY_STEP_USERS", "10"))
STEP_SECONDS = float(os.environ.get("TASKFLOW_CAPACITY_STEP_SECONDS", "30"))
WIDTHS = (8, 5, 7, 7, 6, 5, 13)
MAX_USERS = int(os.environ.get("TASKFLOW_CAPACITY_MAX_USERS", "200"))
WORKERS = int(os.environ.get("TASKFLOW_LOAD_WORKERS", "0"))
"""0: Locust in a process on this host; N: Locust's distributed mode, 1 master + N worker pods."""


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def cpu_during(during: list[ClusterSample]) -> dict[str, float | None]:
    """Mean cores per consumer over a step: where the machine's 2 cores went."""
    apps = sorted({app for sample in during for app in sample.app_cpu_millicores})
    cores: dict[str, float | None] = {
        app: mean([s.app_cpu_millicores[app] / 1000 for s in during if app in s.app_cpu_millicores])
        for app in apps
    }
    cores["ingress"] = mean([s.ingress_cores for s in during if s.ingress_cores is not None])
    on_host = mean([s.locust_cores for s in during if s.locust_cores is not None])
    if on_host is not None or "locust" not in cores:  # distributed: the locust pods' own reading stays
        cores["locust"] = on_host
    cores["other"] = mean([s.other_cores for s in during if s.other_cores is not None])
    cores["host busy"] = mean([s.host_busy_cores for s in during if s.host_busy_cores is not None])
    return cores


def step_rows(steps: list[dict[str, Any]], samples: list[ClusterSample]) -> list[dict[str, Any]]:
    rows = []
    for step in steps:
        during = [s for s in samples if step["started"] <= s.time <= step["ended"]]
        ready = sum(s.ready_replicas for s in during) / len(during) if during else None
        rows.append(
            {
                "step": step["step"],
                "users": step["users"],
                "rps": step["rps"],
                "p95_ms": step["p95_ms"],
                "failure_ratio": step["failure_ratio"] or 0.0,
                "ready_replicas": round(ready, 2) if ready else None,
                "rps_per_replica": round(step["rps"] / ready, 1) if ready else None,
                "over_budget": step["over_budget"],
                "locust_cpu_percent": step["locust_cpu_percent"],
                "cpu_cores": cpu_during(during),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    header = ("step", "users", "req/s", "p95 ms", "fail %", "ready", "req/s/replica")
    lines = [" ".join(f"{name:>{width}}" for name, width in zip(header, WIDTHS, strict=True))]
    for row in rows:
        lines.append(
            f"{row['step']:>8} {row['users']:>5} {row['rps']:>7.1f} {row['p95_ms'] or 0:>7.0f} "
            f"{row['failure_ratio'] * 100:>6.2f} {row['ready_replicas'] or 0:>5.1f} "
            f"{row['rps_per_replica'] or 0:>13.1f}"
            + (f"  over budget: {row['over_budget']}" if row["over_budget"] else "")
        )
    return "\n".join(lines)


def cpu_table(rows: list[dict[str, Any]]) -> str:
    """Mean cores per step for each consumer ('other': the rest of the host's busy CPU)."""
    names = sorted({name for row in rows for name in row["cpu_cores"]}, key=cpu_column_order)
    lines = ["CPU (cores, step means): " + " ".join(f"{name:>10}" for name in ["step", *names])]
    for row in rows:
        values = [row["cpu_cores"].get(name) for name in names]
        cells = " ".join(f"{value:>10.2f}" if value is not None else f"{'-':>10}" for value in values)
        lines.append(" " * 25 + f"{row['step']:>10} " + cells)
    return "\n".join(lines)


def cpu_column_order(name: str) -> tuple[int, str]:
    fixed = ("backend", "postgres", "mcp-server", "frontend", "ingress", "locust", "other", "host busy")
    return (fixed.index(name), name) if name in fixed else (fixed.index("ingress"), name)


@pytest.mark.criterion("SC-004")
def test_capacity_steps(
    deployment: Deployment,
    run_dir: Path,
    tls_certificate_pem: str,
    request: pytest.FixtureRequest,
    evidence: EvidenceRecorder,
) -> None:
    missing = metrics_api_missing(deployment.kube)
    if missing:
        pytest.fail(missing, pytrace=False)  # replicas and CPU per step are what this run is for
    target = ingress_target(deployment, run_dir, tls_certificate_pem)
    shape = ["--stress", "--shape", "steps", "--step-users", str(STEP_USERS)]
    shape += ["--step-seconds", str(STEP_SECONDS), "--max-users", str(MAX_USERS)]
    budget_seconds = STEP_SECONDS * (MAX_USERS / STEP_USERS + 2)
    where = "Locust in a process on this host, through the ingress"
    with progress_shown(request.config), sampling(deployment, run_dir / "load-samples.jsonl") as sampler:
        print(f"\ncapacity: +{STEP_USERS} stress users every {STEP_SECONDS:.0f} s", file=sys.stderr)
        if WORKERS:
            provider: Provider = request.getfixturevalue("provider")
            pods = new_pods(deployment.namespace, locust_image(provider), WORKERS)
            where = (
                f"Locust distributed: 1 master + {WORKERS} worker pods, against {pods.target_url()} "
                "(in-cluster, not through the ingress)"
            )
            run = run_locust_in_cluster(deployment.kube, pods, run_dir, shape, timeout=budget_seconds)
            if left_over(deployment.kube, deployment.namespace):
                where += f"; LEFT OVER: {', '.join(left_over(deployment.kube, deployment.namespace))}"
        else:
            run = run_locust(
                target,
                run_dir,
                shape,
                timeout=budget_seconds,
                on_start=lambda pid: setattr(sampler, "locust_pid", pid),
            )
    why = run.stopped_early()
    rows = step_rows(run.summary.get("steps", []), sampler.samples)
    with progress_shown(request.config):  # the table is the point of the run: never captured
        print(
            f"capacity: {where}\n" + table(rows) + "\n" + cpu_table(rows)
            + f"\nstopped: {why or run.summary.get('stopped_because')}",
            file=sys.stderr,
        )  # fmt: skip
    if why:
        evidence.check(
            "SC-004",
            "capacity search",
            ok=False,
            metric="load run",
            value="stopped",
            detail=f"{why}; {where}",
        )
        return
    (run_dir / "capacity-steps.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    plot_load_run(
        run_dir / "load.svg",
        started=run.started,
        timeline=run.timeline,
        samples=[asdict(sample) for sample in sampler.samples],
        phases=run.summary.get("phases", {}),
        p95_budget_ms=500.0,
        p99_budget_ms=1000.0,
        title="capacity: stress users added step by step (grey: steps)",
    )
    plot_capacity(run_dir / "capacity.svg", rows, p95_budget_ms=500.0)
    within = [row for row in rows if not row["over_budget"]]
    best = max(within, key=lambda row: row["rps"]) if within else None
    evidence.check(
        "SC-004",
        "capacity: highest step within SC-004's budgets (stress users, no think time)",
        ok=best is not None,
        metric="sustainable stress users",
        value=best["users"] if best else None,
        budget="p95 < 500 ms, p99 < 1 s, failures < 1 % per step",
        samples=[row["rps"] for row in rows],
        detail=(
            f"{best['rps']:.1f} req/s, {best['rps_per_replica']} req/s per ready backend replica "
            f"({best['ready_replicas']} ready); "
            if best
            else ""
        )
        + f"search stopped: {run.summary.get('stopped_because')}; {where}; CPU (cores) at the last step: "
        + cpu_text(rows[-1] if rows else None),
    )


def cpu_text(row: dict[str, Any] | None) -> str:
    if row is None:
        return "not sampled"
    return ", ".join(f"{name} {value:.2f}" for name, value in row["cpu_cores"].items() if value is not None)
