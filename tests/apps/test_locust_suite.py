"""load/ run by Locust itself (a subprocess, as a user runs it) against the real backend and
PostgreSQL on loopback: users sign up and work on tasks, the summary and timeline are written,
and bad input stops the run in seconds with one line. Locust is never imported into pytest."""

from __future__ import annotations

import importlib.util
import json
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from app_processes import AppProcess, free_port

from harness.secrets import self_signed_certificate

LOAD_DIR = Path(__file__).resolve().parents[2] / "load"
# find_spec only locates the package: importing locust here would gevent-patch the pytest process.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust comes with the [load] extra"
)


def locust(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOAD_DIR), "--headless", "--only-summary", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_taskflow_users_work_on_their_tasks(backend_server: AppProcess, tmp_path: Path) -> None:
    summary_file, timeline = tmp_path / "summary.json", tmp_path / "timeline.jsonl"
    ran = locust(
        "-u", "10", "-r", "10", "-t", "12s", "--host", backend_server.base_url,
        "--summary-file", str(summary_file), "--timeline", str(timeline), "--csv", str(tmp_path / "run"),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    summary = json.loads(summary_file.read_text())
    run = summary["phases"]["run"]
    assert run["failures"] == 0 and run["task_requests"] > 10
    assert run["users_with_task_requests"] == 10
    assert summary["tls"] == "plain HTTP" and not summary["aborted"]
    names = (tmp_path / "run_stats.csv").read_text()
    for name in ("auth: signup", "auth: login", "tasks: list", "tasks: create"):
        assert name in names
    lines = [json.loads(line) for line in timeline.read_text().splitlines()]
    assert lines and lines[-1]["users"] == 10 and lines[-1]["rps"] > 0


def test_unreachable_host_stops_before_any_user(tmp_path: Path) -> None:
    started = time.monotonic()
    ran = locust("-u", "100", "-r", "100", "-t", "60s", "--host", f"http://127.0.0.1:{free_port()}")
    assert ran.returncode == 2
    assert time.monotonic() - started < 20
    assert "STOPPED before starting: cannot reach 127.0.0.1" in ran.stderr


class _LoginRefused(BaseHTTPRequestHandler):
    """Answers every POST with 401: enough for the pre-flight, while every sign-up fails."""

    seen_hosts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.seen_hosts.append(self.headers.get("host", ""))
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(401)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[str]]]:
    """HTTPS on 127.0.0.1 with a self-signed taskflow.local certificate; records the SNI it gets."""
    certificate, key = self_signed_certificate("taskflow.local")
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server_names: list[str] = []
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name or "")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoginRefused)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], tmp_path / "cert.pem", server_names
    server.shutdown()


def test_self_signed_ingress_without_ca_file_stops_on_tls(tls_server: tuple[int, Path, list[str]]) -> None:
    port, _, _ = tls_server
    ran = locust(
        "-u", "5", "-r", "5", "-t", "30s", "--host", f"https://taskflow.local:{port}",
        "--ingress-address", "127.0.0.1",
    )  # fmt: skip
    assert ran.returncode == 2
    assert "TLS to taskflow.local" in ran.stderr and "--ca-file" in ran.stderr


def test_failing_logins_stop_the_run_in_seconds(tls_server: tuple[int, Path, list[str]]) -> None:
    port, certificate, server_names = tls_server
    started = time.monotonic()
    ran = locust(
        "-u", "50", "-r", "50", "-t", "60s", "--host", f"https://taskflow.local:{port}",
        "--ingress-address", "127.0.0.1", "--ca-file", str(certificate),
    )  # fmt: skip
    assert ran.returncode == 3, ran.stderr[-2000:]
    assert time.monotonic() - started < 30
    assert "STOPPED: " in ran.stderr and "sign-ups/logins failed" in ran.stderr
    assert set(server_names) == {"taskflow.local"}
    assert _LoginRefused.seen_hosts and all(h.startswith("taskflow.local") for h in _LoginRefused.seen_hosts)


def test_harness_runs_ramp100_in_a_process_of_its_own(backend_server: AppProcess, tmp_path: Path) -> None:
    from harness.loadrun import LoadTarget, run_locust  # noqa: PLC0415

    pids: list[int] = []
    shape = ["--shape", "ramp100", "--peak-users", "10", "--ramp-seconds", "6", "--hold-seconds", "6"]
    run = run_locust(
        LoadTarget(backend_server.base_url, "127.0.0.1"), tmp_path, shape, timeout=60, on_start=pids.append
    )
    assert run.returncode == 0, run.log_tail()
    assert not run.stopped_early()
    hold = run.phase("hold")
    assert hold is not None and hold["users_min"] == 10 and hold["failures"] == 0
    assert hold["p95_ms"] is not None and 0 <= hold["locust_cpu_percent"] < 100
    assert run.phase("ramp") is not None and run.phase("ramp-down") is not None
    assert {line["phase"] for line in run.timeline} >= {"ramp", "hold"}
    assert run.html.exists() and (tmp_path / "locust_stats.csv").exists()
    assert pids == [run.pid] and not Path(f"/proc/{run.pid}").exists()
    assert "locust" not in sys.modules


def test_capacity_steps_record_each_step(backend_server: AppProcess, tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    ran = locust(
        "--host", backend_server.base_url, "--stress", "--shape", "steps", "--step-users", "3",
        "--step-seconds", "5", "--max-users", "6", "--summary-file", str(summary_file),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    summary = json.loads(summary_file.read_text())
    assert summary["user_class"] == "StressUser"
    steps = summary["steps"]
    assert steps and all(step["rps"] > 0 for step in steps), json.dumps(steps)
    assert [step["users"] for step in steps] == [3, 6][: len(steps)]
    # This host may be busy: a step over budget ends the search there, and the summary says why.
    over = [step for step in steps if step["over_budget"]]
    if over:
        assert steps[-1] == over[0]
        assert summary["stopped_because"].startswith(f"{over[0]['step']} at {over[0]['users']} users: ")
    else:
        assert len(steps) == 2 and summary["stopped_because"] == "reached --max-users 6"


@contextmanager
def locust_workers(count: int, master_port: int, args: list[str], logs: Path) -> Iterator[None]:
    """`count` Locust workers dialling a master on 127.0.0.1:master_port; killed if still running."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(LOAD_DIR), "--worker", "--master-host", "127.0.0.1",
             "--master-port", str(master_port), *args],
            stdout=subprocess.DEVNULL, stderr=(logs / f"worker{index}.log").open("w"),
        )
        for index in range(count)
    ]  # fmt: skip
    try:
        yield
        for worker in workers:
            worker.wait(timeout=30)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


def test_distributed_master_and_two_workers_write_the_same_summary(
    backend_server: AppProcess, tmp_path: Path
) -> None:
    """Locust's own distributed mode on loopback: the master runs the shape and writes the summary
    and timeline from what the workers report; the steps look as in a single-process run."""
    port = free_port()
    common = ["--host", backend_server.base_url, "--stress"]
    summary_file = tmp_path / "summary.json"
    with locust_workers(2, port, common, tmp_path):
        ran = locust(
            "--master", "--expect-workers", "2", "--shape", "steps", "--step-users", "4",
            "--step-seconds", "6", "--max-users", "8", "--summary-file", str(summary_file),
            "--timeline", str(tmp_path / "timeline.jsonl"), "--master-bind-port", str(port), *common,
        )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    summary = json.loads(summary_file.read_text())
    assert summary["workers"] == 2 and summary["user_class"] == "StressUser"
    steps = summary["steps"]
    assert steps and all(step["rps"] > 0 and step["task_requests"] > 0 for step in steps), steps
    assert [step["users"] for step in steps] == [4, 8][: len(steps)]
    assert steps[0]["users_with_task_requests"] == 4  # users of both workers, told apart
    assert steps[0]["locust_cpu_percent"] > 0
    timeline = [json.loads(line) for line in (tmp_path / "timeline.jsonl").read_text().splitlines()]
    assert any(line["rps"] > 0 for line in timeline)


def test_distributed_failing_logins_on_workers_stop_the_whole_run(
    tls_server: tuple[int, Path, list[str]], tmp_path: Path
) -> None:
    """Sign-ups fail on the workers; the master's guard, fed by their reports, stops every process."""
    port, certificate, _ = tls_server
    master_port = free_port()
    common = ["--host", f"https://taskflow.local:{port}", "--ingress-address", "127.0.0.1"]
    common += ["--ca-file", str(certificate)]
    started = time.monotonic()
    with locust_workers(2, master_port, common, tmp_path):
        ran = locust(
            "--master", "--expect-workers", "2", "-u", "40", "-r", "40", "-t", "60s",
            "--master-bind-port", str(master_port), *common,
        )  # fmt: skip
    assert ran.returncode == 3, ran.stderr[-2000:]
    assert time.monotonic() - started < 45
    assert "STOPPED: " in ran.stderr and "sign-ups/logins failed" in ran.stderr


def test_distributed_run_cut_short_by_a_lost_worker_says_so(
    backend_server: AppProcess, tmp_path: Path
) -> None:
    """A worker killed mid-step: Locust's master stops once it misses its heartbeats; the summary
    must say the shape was cut short instead of reporting the steps it had as a finished search."""
    port = free_port()
    common = ["--host", backend_server.base_url, "--stress"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOAD_DIR), "--worker", "--master-host", "127.0.0.1",
         "--master-port", str(port), *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    summary_file = tmp_path / "summary.json"
    master = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOAD_DIR), "--headless", "--only-summary", "--master",
         "--expect-workers", "1", "--master-bind-port", str(port), "--shape", "steps", "--step-users", "2",
         "--step-seconds", "60", "--max-users", "4", "--summary-file", str(summary_file), *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(15)
        worker.kill()
        _, stderr = master.communicate(timeout=60)
    finally:
        for process in (worker, master):
            if process.poll() is None:
                process.kill()
    summary = json.loads(summary_file.read_text())
    assert "ended before its shape did: 1 of 1 workers went missing" in summary["aborted"], stderr[-2000:]
