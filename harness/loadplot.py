"""One SVG of a load run: users and RPS, latency percentiles, replicas and backend CPU, on one
time axis (seconds since Locust started). Built from the timeline and cluster samples only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.pyplot as plt


def plot_load_run(
    path: Path,
    *,
    started: float,
    timeline: Sequence[dict[str, Any]],
    samples: Sequence[dict[str, Any]],
    phases: dict[str, dict[str, Any]],
    p95_budget_ms: float,
    p99_budget_ms: float,
    title: str,
) -> Path:
    """Write the plot to `path` (SVG); times are seconds after `started` (epoch seconds)."""
    figure, (load_axis, latency_axis, replica_axis) = plt.subplots(
        3, 1, sharex=True, figsize=(9, 7.5), constrained_layout=True
    )
    figure.suptitle(title, fontsize=11)
    at = [line["time"] - started for line in timeline]

    load_axis.plot(at, [line["users"] for line in timeline], color="tab:blue", label="users")
    load_axis.set_ylabel("users", color="tab:blue")
    rps_axis = load_axis.twinx()
    rps_axis.plot(at, [line["rps"] for line in timeline], color="tab:green", label="requests/s")
    rps_axis.plot(at, [line["failures_per_s"] for line in timeline], color="tab:red", label="failures/s")
    rps_axis.set_ylabel("per second")
    rps_axis.legend(loc="upper right", fontsize=8)
    load_axis.legend(loc="upper left", fontsize=8)

    for key, colour in (("p50_ms", "tab:green"), ("p95_ms", "tab:orange"), ("p99_ms", "tab:red")):
        latency_axis.plot(at, [line.get(key) for line in timeline], color=colour, label=key.split("_")[0])
    latency_axis.axhline(p95_budget_ms, color="tab:orange", linestyle=":", linewidth=1, label="p95 budget")
    latency_axis.axhline(p99_budget_ms, color="tab:red", linestyle=":", linewidth=1, label="p99 budget")
    latency_axis.set_ylabel("task endpoints (ms, 5 s windows)")
    latency_axis.set_yscale("symlog", linthresh=100)
    latency_axis.legend(loc="upper left", fontsize=8, ncol=5)

    sample_at = [sample["time"] - started for sample in samples]
    replica_axis.step(sample_at, [s["hpa_desired"] for s in samples], where="post", label="HPA desired")
    replica_axis.step(
        sample_at, [s["ready_replicas"] for s in samples], where="post", label="ready", linestyle="--"
    )
    replica_axis.set_ylabel("backend replicas")
    replica_axis.set_xlabel("seconds since Locust started")
    cpu_axis = replica_axis.twinx()
    pods = sorted({pod for sample in samples for pod in sample["pod_cpu_millicores"]})
    for pod in pods:
        cpu_axis.plot(
            sample_at,
            [sample["pod_cpu_millicores"].get(pod) for sample in samples],
            linewidth=0.8,
            alpha=0.7,
            label=pod.rsplit("-", 1)[-1],
        )
    cpu_axis.set_ylabel("CPU per backend pod (m)")
    replica_axis.legend(loc="upper left", fontsize=8)
    if pods:
        cpu_axis.legend(loc="upper right", fontsize=7, ncol=2, title="pod", title_fontsize=7)

    for name, phase in phases.items():
        if name == "hold" or name.startswith("step"):
            for axis in (load_axis, latency_axis, replica_axis):
                axis.axvspan(phase["started"] - started, phase["ended"] - started, color="0.92", zorder=0)
    figure.savefig(path, format="svg")
    plt.close(figure)
    return path


def plot_capacity(path: Path, rows: Sequence[dict[str, Any]], *, p95_budget_ms: float) -> Path:
    """Per step of the capacity search: RPS and RPS per ready replica, and p95, against users."""
    figure, (rps_axis, latency_axis) = plt.subplots(
        2, 1, sharex=True, figsize=(8, 6), constrained_layout=True
    )
    figure.suptitle("capacity: per step of stress users", fontsize=11)
    users = [row["users"] for row in rows]
    rps_axis.plot(users, [row["rps"] for row in rows], marker="o", label="requests/s")
    rps_axis.plot(
        users, [row["rps_per_replica"] for row in rows], marker="s", label="requests/s per ready replica"
    )
    rps_axis.set_ylabel("per second")
    rps_axis.legend(fontsize=8)
    latency_axis.plot(
        users, [row["p95_ms"] for row in rows], marker="o", color="tab:orange", label="p95 (tasks)"
    )
    latency_axis.axhline(p95_budget_ms, color="tab:orange", linestyle=":", label="p95 budget")
    for row in rows:
        if row["over_budget"]:
            latency_axis.annotate("over budget", (row["users"], row["p95_ms"] or 0), fontsize=8)
    latency_axis.set_ylabel("ms")
    latency_axis.set_xlabel("stress users")
    latency_axis.legend(fontsize=8)
    figure.savefig(path, format="svg")
    plt.close(figure)
    return path
