"""A consecutive-failure circuit breaker.

Closed: calls go through. After `failure_threshold` failures in a row it opens: calls are refused
at once for `reset_after` seconds, so a dead MCP server costs chat nothing but a quick 503. Then one
trial call goes through (half-open); its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open; retry in {retry_after:.1f}s")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(
        self, failure_threshold: int, reset_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._failure_threshold = failure_threshold
        self._reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> None:
        """Raise CircuitOpenError unless a call may go through now."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return
        raise CircuitOpenError(self.retry_after())

    def retry_after(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(self._reset_after - (self._clock() - self._opened_at), 0.0) or self._reset_after

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_in_flight or self._failures >= self._failure_threshold:
            self._opened_at = self._clock()
        self._trial_in_flight = False
