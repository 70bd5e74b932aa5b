"""The pure parts of load/ (shapes, budgets, option checks): imported here without Locust."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "load"))

from taskflow_profiles import (
    HOLD,
    RAMP,
    RAMP_DOWN,
    Budget,
    LoginGuard,
    Ramp,
    Steps,
    WindowStats,
    parse_target,
    percentile,
)


def test_ramp100_ramps_holds_then_stops() -> None:
    ramp = Ramp(peak=100, ramp_seconds=60, hold_seconds=120, down_seconds=10)
    assert ramp.tick(0) is not None and ramp.tick(0).phase == RAMP
    assert ramp.tick(30) == ramp.tick(0)
    holding = ramp.tick(60)
    assert holding is not None and (holding.users, holding.phase) == (100, HOLD)
    assert holding.spawn_rate == pytest.approx(100 / 54)  # all users up 6 s before the hold
    down = ramp.tick(185)
    assert down is not None and (down.users, down.phase) == (0, RAMP_DOWN)
    assert ramp.tick(190) is None
    assert ramp.total_seconds == 190


def test_steps_add_users_each_step_up_to_the_maximum() -> None:
    steps = Steps(step_users=10, step_seconds=30, max_users=25)
    users = [tick.users for tick in (steps.tick(s) for s in (0, 29, 30, 60)) if tick]
    assert users == [10, 10, 20, 25]
    assert steps.tick(90) is None
    assert steps.tick(31).phase == "step 2"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"peak": 0}, "peak"),
        ({"hold_seconds": 0}, "positive"),
    ],
)
def test_ramp_rejects_nonsense(bad: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Ramp(**bad)


def test_percentile_is_nearest_rank() -> None:
    samples = [float(value) for value in range(1, 101)]
    assert percentile(samples, 0.95) == 95
    assert percentile(samples, 0.99) == 99
    assert percentile([7.0], 0.5) == 7
    assert percentile([], 0.5) is None


def test_budget_names_what_broke_it() -> None:
    fast = WindowStats.of([10.0] * 100, failures=0, seconds=10)
    assert Budget().broken_by(fast) is None
    slow = WindowStats.of([10.0] * 90 + [900.0] * 10, failures=0, seconds=10)
    assert "p95 900 ms" in (Budget().broken_by(slow) or "")
    failing = WindowStats.of([10.0] * 100, failures=1, seconds=10)
    assert "failures 1.0%" in (Budget().broken_by(failing) or "")
    assert Budget().broken_by(WindowStats.of([], 0, 10)) == "no request completed"


def test_target_sends_host_name_but_dials_the_ingress_address(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    target = parse_target("https://taskflow.local", "127.0.0.1", str(ca))
    assert (target.hostname, target.port, target.connect_to) == ("taskflow.local", 443, "127.0.0.1")
    assert target.tls == f"verified by {ca}"
    assert parse_target("https://taskflow.local:8443", insecure=True).tls == "INSECURE (not verified)"
    assert parse_target("http://127.0.0.1:8000").connect_to == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "address", "ca_file", "insecure", "message"),
    [
        ("", "", "", False, "no --host"),
        ("taskflow.local", "", "", False, "not an http"),
        ("https://taskflow.local", "taskflow-ip", "", False, "not an IP address"),
        ("https://taskflow.local", "", "/nonexistent/ca.pem", False, "no such file"),
        ("https://taskflow.local", "", "/etc/hostname", True, "contradict"),
    ],
)
def test_bad_target_options_say_what_to_fix(
    host: str, address: str, ca_file: str, insecure: bool, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_target(host, address, ca_file, insecure)


def test_login_guard_stops_only_when_most_logins_fail() -> None:
    guard = LoginGuard(min_attempts=4)
    assert [guard.record(ok) for ok in (False, False, False)] == [None, None, None]
    why = guard.record(False, "HTTP 500")
    assert why is not None and "4 of 4" in why and "HTTP 500" in why
    healthy = LoginGuard(min_attempts=4)
    assert all(healthy.record(ok) is None for ok in (True, False, True, True, False, True))
