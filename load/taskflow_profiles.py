"""The pure parts of the Taskflow load suite: load profiles, option checks, window statistics.

Nothing here imports Locust (or gevent), so the fast test suite can import it in the pytest
process; `locustfile.py` beside it wires these into Locust. This file has no User class, so
`locust -f load/` imports it and finds nothing to run in it.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

RAMP = "ramp"
HOLD = "hold"
RAMP_DOWN = "ramp-down"
STEP = "step"

SHAPES = ("none", "ramp100", "steps")


@dataclass(frozen=True)
class Tick:
    """What the load shape asks for now: this many users, spawned at this rate, in this phase."""

    users: int
    spawn_rate: float
    phase: str


@dataclass(frozen=True)
class Ramp:
    """Ramp to `peak` users over `ramp_seconds`, hold them, then stop them within `down_seconds`.

    Users are spawned over the first 90 % of the ramp, so all of them run when the hold begins."""

    peak: int = 100
    ramp_seconds: float = 60.0
    hold_seconds: float = 120.0
    down_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.peak < 1 or self.ramp_seconds <= 0 or self.hold_seconds <= 0 or self.down_seconds <= 0:
            raise ValueError(f"ramp needs peak >= 1 and positive durations, got {self}")

    @property
    def hold_starts(self) -> float:
        return self.ramp_seconds

    @property
    def hold_ends(self) -> float:
        return self.ramp_seconds + self.hold_seconds

    @property
    def total_seconds(self) -> float:
        return self.hold_ends + self.down_seconds

    @property
    def spawn_rate(self) -> float:
        return self.peak / (0.9 * self.ramp_seconds)

    def tick(self, elapsed: float) -> Tick | None:
        if elapsed < self.hold_starts:
            return Tick(self.peak, self.spawn_rate, RAMP)
        if elapsed < self.hold_ends:
            return Tick(self.peak, self.spawn_rate, HOLD)
        if elapsed < self.total_seconds:
            return Tick(0, self.peak / self.down_seconds, RAMP_DOWN)
        return None


@dataclass(frozen=True)
class Steps:
    """Add `step_users` every `step_seconds` (spawned within the first fifth of the step) up to
    `max_users`; the capacity search stops earlier once a step breaks the budget (see Budget)."""

    step_users: int = 10
    step_seconds: float = 30.0
    max_users: int = 300

    def __post_init__(self) -> None:
        if self.step_users < 1 or self.step_seconds <= 0 or self.max_users < self.step_users:
            raise ValueError(f"steps need step_users >= 1, step_seconds > 0, max_users >= step_users: {self}")

    @property
    def step_count(self) -> int:
        return math.ceil(self.max_users / self.step_users)

    def step_at(self, elapsed: float) -> int:
        """The 0-based step running at `elapsed` seconds."""
        return int(elapsed // self.step_seconds)

    def tick(self, elapsed: float) -> Tick | None:
        step = self.step_at(elapsed)
        if step >= self.step_count:
            return None
        users = min((step + 1) * self.step_users, self.max_users)
        return Tick(users, max(self.step_users / (self.step_seconds / 5), 1.0), f"{STEP} {step + 1}")


@dataclass(frozen=True)
class Budget:
    """SC-004's budgets: what "acceptable response times" means for the task endpoints."""

    p95_ms: float = 500.0
    p99_ms: float = 1000.0
    failure_ratio: float = 0.01

    def broken_by(self, window: WindowStats) -> str | None:
        """Why this window is over budget, or None when it is within."""
        if window.requests == 0:
            return "no request completed"
        if window.failure_ratio >= self.failure_ratio:
            return f"failures {window.failure_ratio:.1%} >= {self.failure_ratio:.0%}"
        if window.p95_ms is not None and window.p95_ms >= self.p95_ms:
            return f"p95 {window.p95_ms:.0f} ms >= {self.p95_ms:.0f} ms"
        if window.p99_ms is not None and window.p99_ms >= self.p99_ms:
            return f"p99 {window.p99_ms:.0f} ms >= {self.p99_ms:.0f} ms"
        return None


def percentile(samples: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (fraction in 0..1); None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return float(ordered[rank - 1])


@dataclass(frozen=True)
class WindowStats:
    requests: int
    failures: int
    seconds: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @classmethod
    def of(cls, response_times_ms: Sequence[float], failures: int, seconds: float) -> WindowStats:
        return cls(
            len(response_times_ms),
            failures,
            seconds,
            percentile(response_times_ms, 0.50),
            percentile(response_times_ms, 0.95),
            percentile(response_times_ms, 0.99),
        )

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Target:
    """Where requests go: the URL's host name (sent as SNI and Host) and the address dialled."""

    scheme: str
    hostname: str
    port: int
    connect_to: str
    """An IP address when --ingress-address overrides DNS, else the host name itself."""
    tls: str
    """"verified by <CA file>", "verified by the system CAs", "INSECURE (not verified)" or "plain HTTP"."""


def parse_target(host: str, ingress_address: str = "", ca_file: str = "", insecure: bool = False) -> Target:
    """Check --host, --ingress-address, --ca-file and --insecure together; ValueError says what to fix."""
    if not host:
        raise ValueError("no --host given: use --host https://taskflow.local")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--host {host!r} is not an http(s) URL: use --host https://taskflow.local")
    if ingress_address:
        try:
            ipaddress.ip_address(ingress_address)
        except ValueError:
            raise ValueError(
                f"--ingress-address {ingress_address!r} is not an IP address: give the address the "
                "ingress listens on, e.g. --ingress-address 127.0.0.1"
            ) from None
    if ca_file and insecure:
        raise ValueError("--ca-file and --insecure contradict each other: give one of them")
    if ca_file and not os.path.isfile(ca_file):
        raise ValueError(f"--ca-file {ca_file}: no such file")
    if parts.scheme == "http":
        tls = "plain HTTP"
    elif insecure:
        tls = "INSECURE (not verified)"
    elif ca_file:
        tls = f"verified by {ca_file}"
    else:
        tls = "verified by the system CAs"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Target(parts.scheme, parts.hostname, port, ingress_address or parts.hostname, tls)


@dataclass
class LoginGuard:
    """Stops a run whose logins mostly fail, after a few attempts instead of 100 users' worth."""

    min_attempts: int = 10
    max_failure_ratio: float = 0.5
    attempts: int = 0
    failures: int = 0
    last_error: str = ""

    def record(self, ok: bool, error: str = "") -> str | None:
        """Count one sign-up/login; return why the run must stop, or None."""
        self.attempts += 1
        if not ok:
            self.failures += 1
            self.last_error = error
        if self.attempts >= self.min_attempts and self.failures / self.attempts > self.max_failure_ratio:
            return (
                f"{self.failures} of {self.attempts} sign-ups/logins failed (last: {self.last_error}); "
                "check that the backend is ready and its database reachable"
            )
        return None
