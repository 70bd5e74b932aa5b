"""The harness side of the load run that needs no cluster: CPU quantities, the plot, Locust's exit."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.load_sampler import millicores, process_cpu_seconds
from harness.loadplot import plot_load_run
from harness.loadrun import LoadRun, LoadTarget, locust_command, progress_line
from harness.render import render_overlay
from harness.sabotage import LOAD_SABOTAGES, sabotage_named


@pytest.mark.parametrize(
    ("quantity", "expected"), [("250m", 250.0), ("1", 1000.0), ("12500000n", 12.5), ("1500u", 1.5)]
)
def test_cpu_quantities_in_millicores(quantity: str, expected: float) -> None:
    assert millicores(quantity) == pytest.approx(expected)


def test_process_cpu_of_a_gone_process_is_none() -> None:
    assert process_cpu_seconds(1) is not None
    assert process_cpu_seconds(2**22 + 1) is None


def test_plot_has_users_latency_and_replicas_on_one_time_axis(tmp_path: Path) -> None:
    started = 1000.0
    timeline = [
        {"time": started + t, "users": min(t * 2, 100), "rps": t / 2, "failures_per_s": 0.0,
         "p50_ms": 20.0, "p95_ms": 80.0 + t, "p99_ms": None if t < 10 else 150.0, "phase": "ramp"}
        for t in range(5, 200, 5)
    ]  # fmt: skip
    samples = [
        {"time": started + t, "hpa_desired": 2 if t < 60 else 4, "ready_replicas": 2 if t < 80 else 4,
         "pod_cpu_millicores": {"backend-a": 150.0, **({"backend-b": 90.0} if t > 80 else {})}}
        for t in range(0, 220, 5)
    ]  # fmt: skip
    phases = {"hold": {"started": started + 60, "ended": started + 180}}
    svg = plot_load_run(
        tmp_path / "load.svg", started=started, timeline=timeline, samples=samples, phases=phases,
        p95_budget_ms=500, p99_budget_ms=1000, title="test run",
    )  # fmt: skip
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    for label in ("users", "backend replicas", "seconds since Locust started", "test run"):
        assert label in text


def test_locust_exit_codes_say_why_it_stopped(tmp_path: Path) -> None:
    run = LoadRun(tmp_path, "locust", returncode=2)
    run.log.write_text("noise\ntaskflow-load: STOPPED before starting: cannot reach x:443\n")
    assert run.stopped_early() == "taskflow-load: STOPPED before starting: cannot reach x:443"
    assert LoadRun(tmp_path, "locust", returncode=1).stopped_early() == ""
    assert "exited -9" in LoadRun(tmp_path, "locust", returncode=-9).stopped_early()


def test_progress_line_reads_the_last_timeline_entry(tmp_path: Path) -> None:
    run = LoadRun(tmp_path, "locust")
    assert progress_line(run) == "starting"
    line = {"phase": "hold", "elapsed": 75.0, "users": 100, "rps": 41.2, "failures_per_s": 0.0}
    line["p95_ms"] = 120.4
    run.timeline_file.write_text(json.dumps(line) + "\n")
    assert progress_line(run) == "hold 75s: 100 users, 41.2 req/s, 0.0 failures/s, p95 120 ms"


@pytest.mark.parametrize("name", list(LOAD_SABOTAGES))
def test_load_sabotages_change_the_backend_scaling(name: str) -> None:
    rendered = render_overlay("local")
    broken = copy.deepcopy(rendered)
    sabotage = sabotage_named(name)
    sabotage.apply(broken)

    def backend(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
        return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == "backend")

    hpa, original_hpa = (
        backend(broken, "HorizontalPodAutoscaler"),
        backend(rendered, "HorizontalPodAutoscaler"),
    )
    if name == "hpa-target-unreachable":
        assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 5000
        assert f"minReplicas {original_hpa['spec']['minReplicas']}" in sabotage.check
    else:
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 1)
        limits = backend(broken, "Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert limits["limits"]["cpu"] == "100m"
    assert sabotage.scenario == "test_scaling.py" and sabotage.select


def test_locust_gets_an_absolute_ca_file_since_it_runs_in_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "ca.crt").write_text("x")
    target = LoadTarget("https://taskflow.local", "127.0.0.1", Path("run/ca.crt"))
    command = locust_command(target, LoadRun(tmp_path / "run", "locust"), [])
    assert command[command.index("--ca-file") + 1] == str(tmp_path / "run" / "ca.crt")


def test_an_option_error_is_the_reason_given(tmp_path: Path) -> None:
    run = LoadRun(tmp_path, "locust", returncode=2)
    run.log.write_text("Starting Locust\ntaskflow-load: --ca-file x.crt: no such file\n")
    assert run.stopped_early() == "taskflow-load: --ca-file x.crt: no such file"
