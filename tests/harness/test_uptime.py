"""The uptime monitor counts up/down samples and keeps announced disruptions apart."""

from __future__ import annotations

import time

from harness.uptime import UptimeMonitor


def test_counts_up_down_and_excluded() -> None:
    state = {"backend": True, "frontend": True}
    monitor = UptimeMonitor(("backend", "frontend"), lambda service: state[service])
    monitor.sample_once()
    state["backend"] = False
    monitor.sample_once()
    with monitor.disruption("postgres-0 killed"):
        monitor.sample_once()
    assert (monitor.tallies["backend"].up, monitor.tallies["backend"].down) == (1, 1)
    assert monitor.tallies["backend"].excluded == 1
    assert len(monitor.tallies["backend"].down_at) == 1 and monitor.tallies["frontend"].down_at == []
    assert monitor.tallies["frontend"].ratio == 1.0
    assert monitor.disruptions == ["postgres-0 killed"]


def test_a_failing_check_counts_as_down() -> None:
    def broken(service: str) -> bool:
        raise RuntimeError("API unreachable")

    monitor = UptimeMonitor(("backend",), broken)
    monitor.sample_once()
    assert monitor.tallies["backend"].down == 1


def test_thread_samples_until_stopped() -> None:
    monitor = UptimeMonitor(("backend",), lambda service: True, interval=0.01)
    monitor.start()
    time.sleep(0.2)
    monitor.stop()
    taken = monitor.tallies["backend"].up
    time.sleep(0.05)
    assert taken >= 3
    assert monitor.tallies["backend"].up == taken
