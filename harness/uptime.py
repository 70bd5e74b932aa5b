"""SC-001 uptime as a user sees it: real HTTP requests, at least one per second per target, from
deploy-ready to the end of the run; a sample is up when the request returns 2xx within 2 s.

Scenarios that break things on purpose announce it with `monitor.disruption(reason, targets)`:
only the named targets' samples inside that window are set apart (and listed with the reason),
so the uptime figure is about the deployment, not about our own chaos.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

SAMPLE_INTERVAL_SECONDS = 1.0
UP_WITHIN_SECONDS = 2.0
MIN_SAMPLES = 60
"""Fewer counted samples than this give no uptime verdict (one minute at 1/s)."""


@dataclass(frozen=True)
class Sample:
    target: str
    at: float
    """Wall-clock time (time.time()) the request started."""
    up: bool
    detail: str = ""


@dataclass
class Window:
    reason: str
    targets: tuple[str, ...]
    start: float
    end: float | None = None

    def covers(self, sample: Sample) -> bool:
        return (
            sample.target in self.targets
            and self.start <= sample.at
            and (self.end is None or sample.at <= self.end)
        )


@dataclass
class Tally:
    up: int = 0
    down: int = 0
    excluded: int = 0
    down_at: list[float] = field(default_factory=list)
    """Seconds since the monitor started, of each sample that found the target down."""
    down_details: list[str] = field(default_factory=list)

    @property
    def counted(self) -> int:
        return self.up + self.down

    @property
    def ratio(self) -> float | None:
        return self.up / self.counted if self.counted else None


@dataclass
class UptimeMonitor:
    """Collects samples from samplers (threads or streams) and judges each target's uptime."""

    targets: tuple[str, ...]
    started: float = field(default_factory=time.time)
    samples: list[Sample] = field(default_factory=list, init=False)
    windows: list[Window] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def record(self, target: str, at: float, up: bool, detail: str = "") -> None:
        if target not in self.targets:
            raise ValueError(f"unknown uptime target {target!r}; known: {', '.join(self.targets)}")
        with self._lock:
            self.samples.append(Sample(target, at, up, detail))

    @contextmanager
    def disruption(self, reason: str, targets: Sequence[str]) -> Iterator[Window]:
        """Set apart the samples of `targets` (and only those) while the block runs."""
        unknown = [target for target in targets if target not in self.targets]
        if unknown or not targets:
            raise ValueError(f"a disruption names the targets it affects, of: {', '.join(self.targets)}")
        window = Window(reason, tuple(targets), time.time())
        with self._lock:
            self.windows.append(window)
        try:
            yield window
        finally:
            window.end = time.time()

    def tally(self, target: str) -> Tally:
        with self._lock:
            samples = [sample for sample in self.samples if sample.target == target]
            windows = list(self.windows)
        counted = Tally()
        for sample in sorted(samples, key=lambda item: item.at):
            if any(window.covers(sample) for window in windows):
                counted.excluded += 1
            elif sample.up:
                counted.up += 1
            else:
                counted.down += 1
                counted.down_at.append(round(sample.at - self.started, 1))
                counted.down_details.append(sample.detail)
        return counted

    def windows_described(self) -> str:
        if not self.windows:
            return "none"
        return "; ".join(
            f"{', '.join(window.targets)} from +{window.start - self.started:.0f}s to "
            + (f"+{window.end - self.started:.0f}s" if window.end is not None else "the end")
            + f": {window.reason}"
            for window in self.windows
        )


@dataclass
class PollingSampler:
    """Calls each check every interval on a thread of its own; a check returns (up, detail)."""

    monitor: UptimeMonitor
    checks: dict[str, Callable[[], tuple[bool, str]]]
    interval: float = SAMPLE_INTERVAL_SECONDS
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)

    def _run(self, target: str, check: Callable[[], tuple[bool, str]]) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            at = time.time()
            try:
                up, detail = check()
            except Exception as error:  # a failed request is a down sample, never a dead thread
                up, detail = False, f"{type(error).__name__}: {error}"
            self.monitor.record(target, at, up, detail)
            next_at += self.interval
            self._stop.wait(max(next_at - time.monotonic(), 0))

    def start(self) -> None:
        for target, check in self.checks.items():
            thread = threading.Thread(target=self._run, args=(target, check), name=f"uptime {target}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=UP_WITHIN_SECONDS * 3)


def down_times(offsets: list[float], shown: int = 8) -> str:
    if not offsets:
        return "never"
    listed = ", ".join(f"+{offset:.0f}s" for offset in offsets[:shown])
    return listed + (f" and {len(offsets) - shown} more" if len(offsets) > shown else "")
