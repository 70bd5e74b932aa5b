"""SC-001 uptime: sample service availability all through the run, minus announced disruptions.

Scenarios that break things on purpose (kill the database, stop the MCP server) announce it with
`monitor.disruption(reason)`; samples taken inside such a window are counted apart, so the uptime
figure is about the deployment, not about our own chaos, and the report says what was excluded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SAMPLE_INTERVAL_SECONDS = 1.0


@dataclass
class Tally:
    up: int = 0
    down: int = 0
    excluded: int = 0
    down_at: list[float] = field(default_factory=list)
    """Seconds since the monitor started, of each sample that found the service down."""

    @property
    def counted(self) -> int:
        return self.up + self.down

    @property
    def ratio(self) -> float | None:
        return self.up / self.counted if self.counted else None


@dataclass
class UptimeMonitor:
    """Calls `is_up(service)` for each service every interval on a background thread."""

    services: tuple[str, ...]
    is_up: Callable[[str], bool]
    interval: float = SAMPLE_INTERVAL_SECONDS
    tallies: dict[str, Tally] = field(init=False)
    disruptions: list[str] = field(default_factory=list)
    _active_disruptions: int = field(default=0, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _started: float = field(default_factory=time.monotonic, init=False)

    def __post_init__(self) -> None:
        self.tallies = {service: Tally() for service in self.services}

    def sample_once(self) -> None:
        elapsed = round(time.monotonic() - self._started, 1)
        for service in self.services:
            try:
                up = self.is_up(service)
            except Exception:  # an API hiccup counts as not up and must never kill the thread
                up = False
            with self._lock:
                tally = self.tallies[service]
                if self._active_disruptions:
                    tally.excluded += 1
                elif up:
                    tally.up += 1
                else:
                    tally.down += 1
                    tally.down_at.append(elapsed)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample_once()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="uptime-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval * 5)

    @contextmanager
    def disruption(self, reason: str) -> Iterator[None]:
        with self._lock:
            self._active_disruptions += 1
            self.disruptions.append(reason)
        try:
            yield
        finally:
            with self._lock:
                self._active_disruptions -= 1
