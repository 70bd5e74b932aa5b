"""The harness side of the load run that needs no cluster: CPU quantities, the plot, Locust's exit."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client import ApiException

from harness.load_sampler import ClusterSample, metrics_api_missing, millicores, process_cpu_seconds
from harness.loadplot import plot_load_run
from harness.loadrun import LoadRun, LoadTarget, locust_command, progress_line
from harness.render import render_overlay
from harness.sabotage import LOAD_SABOTAGES, sabotage_named
from scenarios.load_capacity import cpu_table, step_rows


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


class MetricsApiAnswering:
    """The one call metrics_api_missing makes, answering with `status` (200: the API is there)."""

    def __init__(self, status: int) -> None:
        self.status = status

    def list_cluster_custom_object(self, *_args: str) -> dict[str, Any]:
        if self.status != 200:
            raise ApiException(status=self.status, reason="Not Found")
        return {"items": []}


@pytest.mark.parametrize("status", [404, 503])
def test_no_metrics_api_is_one_line_with_the_fix(status: int) -> None:
    kube = SimpleNamespace(custom=MetricsApiAnswering(status))
    why = metrics_api_missing(kube)  # type: ignore[arg-type]
    assert why is not None and "\n" not in why
    assert f"answered {status}" in why and "HPA cannot read CPU" in why and "metrics-server" in why
    assert metrics_api_missing(SimpleNamespace(custom=MetricsApiAnswering(200))) is None  # type: ignore[arg-type]


def test_capacity_step_shows_where_the_cores_went() -> None:
    sample = ClusterSample(
        time=10.0, hpa_desired=2, hpa_current=2, hpa_cpu_percent=90, ready_replicas=2,
        pod_cpu_millicores={"backend-a": 600.0, "backend-b": 500.0}, host_busy_cores=1.9,
        locust_cores=0.2, app_cpu_millicores={"backend": 1100.0, "postgres": 300.0}, ingress_cores=0.1,
    )  # fmt: skip
    assert sample.other_cores == pytest.approx(0.2)
    step = {"step": "step 1", "users": 10, "rps": 220.0, "p95_ms": 40.0, "failure_ratio": 0.0,
            "over_budget": None, "locust_cpu_percent": 20.0, "started": 5.0, "ended": 15.0}  # fmt: skip
    rows = step_rows([step], [sample])
    assert rows[0]["rps_per_replica"] == 110.0
    assert rows[0]["cpu_cores"]["backend"] == 1.1 and rows[0]["cpu_cores"]["other"] == 0.2
    lines = cpu_table(rows).splitlines()
    columns = ["step", "backend", "postgres", "ingress", "locust", "other", "host", "busy"]
    assert lines[0].split()[-8:] == columns
    assert "1.10" in lines[1] and "0.30" in lines[1]
