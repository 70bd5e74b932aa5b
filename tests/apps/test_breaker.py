"""The MCP circuit breaker's states, on a fake clock."""

from __future__ import annotations

import pytest
from taskflow_backend.mcp_client.breaker import BreakerState, CircuitBreaker, CircuitOpenError


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _failed_calls(breaker: CircuitBreaker, count: int) -> None:
    for _ in range(count):
        breaker.before_call()
        breaker.record_failure()


def test_opens_after_the_threshold_and_refuses_with_the_time_left() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=5, clock=clock)
    _failed_calls(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    _failed_calls(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    clock.now += 2
    with pytest.raises(CircuitOpenError) as refused:
        breaker.before_call()
    assert refused.value.retry_after == pytest.approx(3)


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_after=5, clock=FakeClock())
    _failed_calls(breaker, 1)
    breaker.before_call()
    breaker.record_success()
    _failed_calls(breaker, 1)
    assert breaker.state is BreakerState.CLOSED


def test_half_open_lets_one_trial_through_and_its_outcome_decides() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=5, clock=clock)
    _failed_calls(breaker, 1)
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # a second caller while the trial is in flight
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN

    clock.now += 5
    breaker.before_call()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()
