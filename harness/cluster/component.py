"""Host-process components: a typed description and a supervisor that starts, checks and stops
them by recorded PID only (never by name)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ClusterError
from .files import write_atomic
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


BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class PidRecord:
    """Who a pid file means: pid, start ticks, boot id and executable together name one process
    (a reused pid, a reboot or another program with the same pid never match)."""

    pid: int
    start_ticks: int  # /proc/<pid>/stat field 22
    boot: str = ""
    exe: str = ""

    def alive(self) -> bool:
        if self.boot and self.boot != boot_id():
            return False
        if _start_ticks(self.pid) != self.start_ticks:
            return False
        return not self.exe or _exe(self.pid) in (self.exe, "")

    def line(self) -> str:
        # the first two fields stay "pid ticks": older versions read only those
        return f"{self.pid} {self.start_ticks} {self.boot or '-'} {self.exe or '-'}\n"


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


def _exe(pid: int) -> str:
    """The executable's path ("" when unreadable); a rebuilt binary shows as ' (deleted)'."""
    try:
        return os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
    except OSError:
        return ""


def process_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (an exited child not yet reaped by its parent)."""
    return _start_ticks(pid) is not None


def read_pid(layout: Layout, name: str) -> PidRecord | None:
    path = layout.pidfile(name)
    try:
        fields = path.read_text().split()
        pid, ticks = int(fields[0]), int(fields[1])
    except (OSError, ValueError, IndexError):
        return None
    boot = fields[2] if len(fields) > 2 and fields[2] != "-" else ""
    exe = fields[3] if len(fields) > 3 and fields[3] != "-" else ""
    return PidRecord(pid, ticks, boot, exe)


def running(layout: Layout, name: str) -> PidRecord | None:
    rec = read_pid(layout, name)
    return rec if rec is not None and rec.alive() else None


def orphans(argv: Sequence[str], known: set[int]) -> list[PidRecord]:
    """Processes running exactly `argv` (a start a kill interrupted before its pid file was written)."""
    want = ("\0".join(argv) + "\0").encode()
    found: list[PidRecord] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in known:
            continue
        try:
            if (proc / "cmdline").read_bytes() != want:
                continue
        except OSError:
            continue
        pid = int(proc.name)
        ticks = _start_ticks(pid)
        exe = os.path.realpath(argv[0])
        if ticks is not None and _exe(pid) == exe:
            found.append(PidRecord(pid, ticks, boot_id(), exe))
    return found


def adopt(layout: Layout, name: str, rec: PidRecord) -> None:
    write_atomic(layout.pidfile(name), rec.line().encode())


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
    # the program it execs, not /proc/<pid>/exe: right after fork that is still Python
    rec = PidRecord(proc.pid, ticks, boot_id(), os.path.realpath(comp.argv[0]))
    write_atomic(layout.pidfile(comp.name), rec.line().encode())
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
    """SIGTERM then SIGKILL the recorded process of `name`; True when something was stopped."""
    rec = read_pid(layout, name)
    stopped = rec is not None and terminate(rec, name, timeout)
    child = _children.pop(name, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)  # started by this process: reap it, leave no zombie
    layout.pidfile(name).unlink(missing_ok=True)
    return stopped


KILL_WAIT = 10.0


def terminate(rec: PidRecord, name: str, timeout: float = 15.0) -> bool:
    """Stop exactly the process `rec` names; True if it was running. Signals go through a pidfd
    opened and then verified, so a pid reused meanwhile can never get them."""
    pidfd = _pidfd(rec)
    if pidfd is None and not rec.alive():
        return False
    try:
        _send(rec, pidfd, signal.SIGTERM)
        if not _wait_gone(rec, pidfd, name, timeout):
            print(f"[down] {name} ignored SIGTERM for {timeout:.0f}s; SIGKILL", file=sys.stderr)
            _send(rec, pidfd, signal.SIGKILL)
            if not _wait_gone(rec, pidfd, name, KILL_WAIT):
                raise ClusterError(
                    f"{name} (pid {rec.pid}) still runs {KILL_WAIT:.0f}s after SIGKILL (stuck in the kernel)",
                    f"look at /proc/{rec.pid}/stack and wchan; run `down` again once it has gone",
                )
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return True


def _pidfd(rec: PidRecord) -> int | None:
    try:
        fd = os.pidfd_open(rec.pid)
    except (OSError, AttributeError):  # gone, or a kernel before 5.3
        return None
    if rec.alive():
        return fd  # verified after opening: the fd refers to this very process
    os.close(fd)
    return None


def _send(rec: PidRecord, pidfd: int | None, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, sig)
        elif rec.alive():
            os.kill(rec.pid, sig)


def _wait_gone(rec: PidRecord, pidfd: int | None, name: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    poller = select.poll()
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)  # readable once the process has exited
    while rec.alive():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        _reap(name)
        if pidfd is not None:
            poller.poll(min(left, 0.1) * 1000)
        else:
            time.sleep(min(left, 0.05))
    return True


def _reap(name: str) -> None:
    child = _children.get(name)
    if child is not None:
        child.poll()
