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
