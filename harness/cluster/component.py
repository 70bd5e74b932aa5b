"""Host-process components: a typed description and a supervisor that starts, checks and stops
them by recorded PID only (never by name)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ClusterError
from .paths import Layout

# A readiness check returns None when ready, else a short reason it is not (shown on timeout).
ReadyCheck = Callable[[], "str | None"]


@dataclass(frozen=True)
class Component:
    """A process the cluster runs on the host.

    name: unique; names the pid file `<state>/pids/<name>.pid` and log `<state>/logs/<name>.log`.
    argv: full command line, argv[0] an absolute path.
    ready: polled until it returns None (ready) or `ready_timeout` seconds pass.
    fix_hint: what a person should do when it fails to start.
    """

    name: str
    argv: Sequence[str]
    ready: ReadyCheck
    env: Mapping[str, str] = field(default_factory=dict)
    ready_timeout: float = 60.0
    stop_timeout: float = 15.0
    fix_hint: str = ""


@dataclass(frozen=True)
class PidRecord:
    pid: int
    start_ticks: int  # /proc/<pid>/stat field 22; guards against a reused PID

    def alive(self) -> bool:
        return _start_ticks(self.pid) == self.start_ticks


def _start_ticks(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm (field 2) may contain spaces; fields after the closing paren are fixed.
    rest = raw.rsplit(")", 1)[1].split()
    if rest[0] == "Z":
        return None
    return int(rest[19])


def process_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (an exited child not yet reaped by its parent)."""
    return _start_ticks(pid) is not None


def read_pid(layout: Layout, name: str) -> PidRecord | None:
    path = layout.pidfile(name)
    try:
        pid_s, ticks_s = path.read_text().split()[:2]
        return PidRecord(int(pid_s), int(ticks_s))
    except (OSError, ValueError):
        return None


def running(layout: Layout, name: str) -> PidRecord | None:
    rec = read_pid(layout, name)
    return rec if rec is not None and rec.alive() else None


def recorded_names(layout: Layout) -> list[str]:
    if not layout.pids.is_dir():
        return []
    return sorted(p.stem for p in layout.pids.glob("*.pid"))


def start(layout: Layout, comp: Component) -> PidRecord:
    """Start `comp` detached (own session, survives the CLI), unless it already runs."""
    current = running(layout, comp.name)
    if current is not None:
        return current
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.pids.mkdir(parents=True, exist_ok=True)
    log_path = layout.log(comp.name)
    with log_path.open("ab") as log:
        log.write(f"\n=== start {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(comp.argv)}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                list(comp.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **comp.env},
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise ClusterError(
                f"{comp.name} could not be started: {exc}",
                comp.fix_hint or f"check that {comp.argv[0]} exists and is executable",
            ) from None
    ticks = _start_ticks(proc.pid)
    if ticks is None:
        proc.wait()
        raise ClusterError(
            f"{comp.name} exited immediately (exit code {proc.returncode})",
            comp.fix_hint or "read the log above",
            log=log_path,
        )
    rec = PidRecord(proc.pid, ticks)
    layout.pidfile(comp.name).write_text(f"{rec.pid} {rec.start_ticks}\n")
    # Keep a Popen reference so an early exit is reaped (not a zombie) while we wait.
    _children[comp.name] = proc
    return rec


_children: dict[str, subprocess.Popen[bytes]] = {}


def wait_ready(layout: Layout, comp: Component) -> None:
    deadline = time.monotonic() + comp.ready_timeout
    reason: str | None = "not checked yet"
    while True:
        child = _children.get(comp.name)
        if child is not None and child.poll() is not None:
            raise ClusterError(
                f"{comp.name} exited during start (exit code {child.returncode})",
                comp.fix_hint or "read the log tail above",
                log=layout.log(comp.name),
            )
        if child is None and running(layout, comp.name) is None:
            raise ClusterError(
                f"{comp.name} is not running",
                comp.fix_hint or "read the log tail above",
                log=layout.log(comp.name),
            )
        reason = comp.ready()
        if reason is None:
            return
        if time.monotonic() > deadline:
            raise ClusterError(
                f"{comp.name} not ready after {comp.ready_timeout:.0f}s: {reason}",
                comp.fix_hint or "read the log tail above",
                log=layout.log(comp.name),
            )
        time.sleep(0.3)


def stop(layout: Layout, name: str, timeout: float = 15.0) -> bool:
    """SIGTERM then SIGKILL the recorded PID of `name`; True when something was stopped."""
    rec = read_pid(layout, name)
    stopped = False
    if rec is not None and rec.alive():
        stopped = True
        _signal(rec.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while rec.alive() and time.monotonic() < deadline:
            _reap(name)
            time.sleep(0.1)
        if rec.alive():
            print(f"[down] {name} ignored SIGTERM for {timeout:.0f}s; SIGKILL", file=sys.stderr)
            _signal(rec.pid, signal.SIGKILL)
            while rec.alive():
                _reap(name)
                time.sleep(0.05)
    child = _children.pop(name, None)
    if child is not None:
        child.wait()  # started by this process: reap it, leave no zombie
    layout.pidfile(name).unlink(missing_ok=True)
    return stopped


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _reap(name: str) -> None:
    child = _children.get(name)
    if child is not None:
        child.poll()
