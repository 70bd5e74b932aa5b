"""The uptime monitor: samples per target, disruption windows that set apart only their targets."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.uptime import PollingSampler, UptimeMonitor

AGENT = Path(__file__).resolve().parents[2] / "harness" / "probe_agent.py"


def test_a_disruption_sets_apart_only_its_targets() -> None:
    monitor = UptimeMonitor(("backend", "frontend"), started=time.time())
    now = time.time()
    monitor.record("backend", now, True)
    monitor.record("frontend", now, True)
    with monitor.disruption("postgres-0 killed", ["backend"]):
        inside = time.time()
        monitor.record("backend", inside, False, "503")
        monitor.record("frontend", inside, False, "timed out")
    monitor.record("backend", time.time() + 1, False, "connection refused")
    backend, frontend = monitor.tally("backend"), monitor.tally("frontend")
    assert (backend.up, backend.down, backend.excluded) == (1, 1, 1)
    assert backend.down_details == ["connection refused"]
    assert (frontend.up, frontend.down, frontend.excluded) == (1, 1, 0)
    assert "backend from +0s to +0s: postgres-0 killed" in monitor.windows_described()


def test_a_disruption_must_name_known_targets() -> None:
    monitor = UptimeMonitor(("backend",))
    with pytest.raises(ValueError, match="names the targets"), monitor.disruption("chaos", []):
        pass
    with pytest.raises(ValueError, match="names the targets"), monitor.disruption("chaos", ["db"]):
        pass


def test_polling_sampler_counts_a_raising_check_as_down_and_stops() -> None:
    monitor = UptimeMonitor(("ingress", "broken"))

    def broken() -> tuple[bool, str]:
        raise OSError("connection reset")

    sampler = PollingSampler(monitor, {"ingress": lambda: (True, "200"), "broken": broken}, interval=0.01)
    sampler.start()
    time.sleep(0.2)
    sampler.stop()
    taken = monitor.tally("ingress").up
    assert taken >= 3
    assert monitor.tally("broken").down >= 3
    assert "OSError: connection reset" in monitor.tally("broken").down_details[0]
    time.sleep(0.05)
    assert monitor.tally("ingress").up == taken


def test_probe_agent_watch_prints_one_line_per_target_per_second(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    targets = {"up": {"url": url}, "down": {"url": "http://127.0.0.1:9/"}}
    agent = subprocess.Popen(
        [sys.executable, str(AGENT), "watch", json.dumps({"targets": targets, "interval": 0.2})],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert agent.stdout is not None
        lines = [json.loads(agent.stdout.readline()) for _ in range(6)]
    finally:
        agent.kill()
        agent.wait()
        server.shutdown()
    by_target = {line["target"]: line for line in lines}
    assert by_target["up"]["status"] == 200
    assert by_target["down"]["status"] is None and by_target["down"]["error"]
