"""CPU time from Linux /proc, per process tree and for the whole machine, for `nox -s bench`.

A process tree's time is each live member's own user + system time plus the parent's `cutime` and
`cstime` (children that exited and were reaped, e.g. PostgreSQL backends of closed connections), so
a connection that comes and goes during a run is still counted. Run-queue wait (how long a
process was ready but got no CPU) tells a starved server from a slow one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        # The command name (field 2) may hold spaces; everything after its ")" is space-separated.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used by `root` and every descendant, living or reaped."""
    children = _children_by_parent()
    total = 0.0
    pending = [root]
    while pending:
        pid = pending.pop()
        fields = _stat_fields(pid)
        if fields is None:
            continue
        # fields[11..14] = utime, stime, cutime, cstime (stat fields 14-17).
        total += sum(int(value) for value in fields[11:15]) / TICKS_PER_SECOND
        pending.extend(children.get(pid, []))
    return total


def trees_cpu_seconds(roots: list[int]) -> float:
    return sum(tree_cpu_seconds(root) for root in roots)


def _descendants(root: int) -> list[int]:
    children = _children_by_parent()
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def trees_runqueue_wait_seconds(roots: list[int]) -> float:
    """Seconds the live threads of `roots` and their descendants were ready to run but waited for
    a CPU (the scheduler's run delay, /proc/PID/task/TID/schedstat field 2): time a busy machine
    took from them, not work of their own."""
    total_ns = 0
    for root in roots:
        for pid in _descendants(root):
            try:
                threads = os.listdir(f"/proc/{pid}/task")
            except (FileNotFoundError, ProcessLookupError):
                continue
            for tid in threads:
                try:
                    total_ns += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1])
                except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                    continue
    return total_ns / 1e9


@dataclass(frozen=True)
class MachineCpu:
    busy_seconds: float
    wall_seconds: float


def machine_cpu() -> MachineCpu:
    """Busy CPU seconds of the whole machine (all cores; everything but idle and iowait) so far."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    # guest time is already inside user time.
    busy = sum(values[:8]) - idle
    return MachineCpu(busy / TICKS_PER_SECOND, float(Path("/proc/uptime").read_text().split()[0]))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


@dataclass(frozen=True)
class CpuReading:
    """Cumulative CPU so far: the machine's, and the server, database and load-generator trees'
    own CPU and run-queue wait."""

    machine: MachineCpu
    server: float
    db: float
    client: float
    server_wait: float
    client_wait: float


def read_cpu(server_pids: list[int], db_pid: int, client_pid: int | None = None) -> CpuReading:
    clients = [] if client_pid is None else [client_pid]
    return CpuReading(
        machine=machine_cpu(),
        server=trees_cpu_seconds(server_pids),
        db=tree_cpu_seconds(db_pid),
        client=trees_cpu_seconds(clients),
        server_wait=trees_runqueue_wait_seconds(server_pids),
        client_wait=trees_runqueue_wait_seconds(clients),
    )


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent between two readings, over `wall` seconds."""

    wall: float
    server: float
    db: float
    client: float
    server_wait: float
    client_wait: float
    machine_busy: float

    @property
    def other_cores(self) -> float:
        """Cores the rest of the machine kept busy meanwhile."""
        return max(0.0, self.machine_busy - self.server - self.db - self.client) / self.wall


def cpu_used(before: CpuReading, after: CpuReading, client_seconds: float | None = None) -> CpuUse:
    """`client_seconds` replaces the generator's own reading when it is measured otherwise (wrk
    runs as a child: its CPU comes from getrusage)."""
    return CpuUse(
        wall=after.machine.wall_seconds - before.machine.wall_seconds,
        server=after.server - before.server,
        db=after.db - before.db,
        client=after.client - before.client if client_seconds is None else client_seconds,
        server_wait=after.server_wait - before.server_wait,
        client_wait=after.client_wait - before.client_wait,
        machine_busy=after.machine.busy_seconds - before.machine.busy_seconds,
    )
