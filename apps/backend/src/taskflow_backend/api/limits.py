"""Limits that keep one client from taking the server down: password hashing slots, auth rate."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class BusyError(Exception):
    """No capacity now; try again after `retry_after_seconds`."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"busy; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class HashSlots:
    """At most `concurrency` argon2 hashes at once (each takes 19 MiB), and a short queue behind them:
    a request that would queue beyond `queue` waiters, or wait longer than `wait_seconds`, is refused
    with BusyError rather than piling up memory and threads."""

    def __init__(self, concurrency: int, queue: int, wait_seconds: float = 5.0) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._queue = queue
        self._waiting = 0
        self._wait_seconds = wait_seconds

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.locked() and self._waiting >= self._queue:
            raise BusyError(1)
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait_seconds)
        except TimeoutError as exc:
            raise BusyError(1) from exc
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


class RateLimiter:
    """A token bucket per client key: `burst` requests at once, refilled at `per_minute`."""

    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int, burst: int) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str) -> int:
        """0 when `key` may go ahead (and takes a token); otherwise the seconds until it may."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self._rate))
        if len(self._buckets) >= self.MAX_CLIENTS and key not in self._buckets:
            self._forget_full_buckets(now)
        self._buckets[key] = (tokens - 1.0, now)
        return 0

    def _forget_full_buckets(self, now: float) -> None:
        """Drop clients whose bucket has refilled: they would start full anyway."""
        refill = self._burst / self._rate
        self._buckets = {key: value for key, value in self._buckets.items() if now - value[1] < refill}
