"""The kubelet's cgroup root: a child of the cgroup `up` started in, per v1 controller.

The host's own cgroups are never moved or changed; we only mkdir below our own cgroup and
rmdir what we made.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import ClusterError

CGROUP_FS = Path("/sys/fs/cgroup")
LEAF = "taskflow"
# Controllers the kubelet's cgroupfs manager needs to find the root in.
NEEDED = ("cpu", "cpuacct", "cpuset", "memory", "pids")


def own_cgroups() -> dict[str, str]:
    """controller -> path of this process's cgroup (cgroup v1 hierarchies only)."""
    result: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for ctrl in controllers.split(","):
            if ctrl:
                result[ctrl.removeprefix("name=")] = path
    return result


def is_v1() -> bool:
    return (CGROUP_FS / "memory").is_dir() and not (CGROUP_FS / "cgroup.controllers").exists()


def choose_root() -> str:
    """The deepest own cgroup among the needed controllers, plus our leaf.

    On these hosts only memory is non-root (/process_api/<id>); in the other hierarchies the
    same path is below our cgroup (/), so the root is a descendant of ours everywhere.
    """
    if not is_v1():
        raise ClusterError(
            "this host uses the unified cgroup v2 hierarchy only; the embedded cluster is set "
            "up for cgroup v1/hybrid hosts",
            "run on a cgroup v1 hybrid host, or extend harness/cluster/cgroups.py for v2",
        )
    own = own_cgroups()
    missing = [c for c in NEEDED if c not in own or not (CGROUP_FS / c).is_dir()]
    if missing:
        raise ClusterError(
            f"cgroup v1 controllers not mounted: {', '.join(missing)}",
            "mount them under /sys/fs/cgroup (the kubelet needs cpu, cpuacct, cpuset, memory, pids)",
        )
    base = max((own[c] for c in NEEDED), key=lambda p: p.count("/"))
    return f"{base.rstrip('/')}/{LEAF}"


def controllers() -> list[str]:
    own = own_cgroups()
    return [c for c in own if c != "" and (CGROUP_FS / c).is_dir()]


def ensure_root(root: str) -> list[str]:
    """mkdir the root in every v1 hierarchy; returns the dirs created (deepest last)."""
    created: list[str] = []
    for ctrl in controllers():
        parts = [p for p in root.split("/") if p]
        cur = CGROUP_FS / ctrl
        for part in parts:
            parent = cur
            cur = cur / part
            if not cur.exists():
                cur.mkdir()
                created.append(str(cur))
                if ctrl == "cpuset":
                    # a new v1 cpuset is empty; it must inherit cpus/mems to hold tasks
                    for f in ("cpuset.cpus", "cpuset.mems"):
                        (cur / f).write_text((parent / f).read_text())
    return created


def path_dirs(root: str) -> list[str]:
    """The dirs of `root` and its ancestors in every v1 hierarchy (what ensure_root may create)."""
    parts = [p for p in root.split("/") if p]
    hierarchies = [h for h in _hierarchies() if (CGROUP_FS / h).is_dir()]
    return [
        str(CGROUP_FS / ctrl / "/".join(parts[:i])) for ctrl in hierarchies for i in range(1, len(parts) + 1)
    ]


def existing_dirs(root: str) -> list[str]:
    return [d for d in path_dirs(root) if Path(d).is_dir()]


def remove_recorded(root: str, existing: list[str]) -> list[str]:
    """Undo `ensure_root` and everything the kubelet made below it; dirs that existed before stay."""
    created = [d for d in path_dirs(root) if d not in set(existing)]
    return remove_tree(root, created, keep=existing)


def _hierarchies() -> list[str]:
    # runc mirrors v1 cgroups into the unified (cgroup2) hierarchy of a hybrid host
    return [*controllers(), "unified"]


def tasks_below(root: str) -> dict[int, str]:
    """pid -> cgroup dir of every process below `root` in any hierarchy (only pods live there)."""
    found: dict[int, str] = {}
    for ctrl in _hierarchies():
        top = CGROUP_FS / ctrl / root.lstrip("/")
        if not top.is_dir():
            continue
        for directory, _, files in os.walk(top):
            if "cgroup.procs" not in files:
                continue
            try:
                text = (Path(directory) / "cgroup.procs").read_text()
            except OSError:
                continue  # removed while we walked
            found.update((int(pid), directory) for pid in text.split())
    return found


def kill_tasks_below(root: str, timeout: float = 15.0) -> dict[int, str]:
    """SIGKILL what still runs below `root` and wait for it to go; returns what stayed.

    `down` stops containers through containerd first; this catches what that missed (a shim
    that died, a `ctr` that did not answer), since a cgroup with a task in it cannot be removed.
    Everything below the root is a pod's process: the kubelet's cgroupfs driver puts nothing else there.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = tasks_below(root)
        if not left or time.monotonic() > deadline:
            return left
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def _describe(pid: int) -> str:
    try:
        return f"{pid} {Path(f'/proc/{pid}/comm').read_text().strip()}"
    except OSError:
        return f"{pid} (gone)"


def remove_tree(root: str, created: list[str], keep: Sequence[str] = (), timeout: float = 15.0) -> list[str]:
    """rmdir everything below `root` (deepest first) and the dirs `up` created; returns leftovers,
    each with why it stayed (the errno, and the tasks still in it)."""
    stayed = kill_tasks_below(root, timeout)
    deadline = time.monotonic() + timeout
    leftovers: list[str] = []
    kept = set(keep)
    for ctrl in _hierarchies():
        top = CGROUP_FS / ctrl / root.lstrip("/")
        if not top.is_dir():
            continue
        dirs = sorted((Path(d) for d, _, _ in os.walk(top)), key=lambda p: -len(p.parts))
        for directory in dirs:
            if str(directory) not in kept:
                _rmdir(directory, leftovers, deadline, stayed)
    for made in sorted(created, key=lambda p: -len(Path(p).parts)):
        if Path(made).is_dir():
            _rmdir(Path(made), leftovers, deadline, stayed)
    return leftovers


def _rmdir(d: Path, leftovers: list[str], deadline: float, stayed: dict[int, str]) -> None:
    """Retry while a just-killed task may still be exiting, until the shared deadline."""
    while True:
        try:
            d.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                inside = [_describe(pid) for pid, where in stayed.items() if where.startswith(str(d))]
                why = exc.strerror or str(exc)
                leftovers.append(f"{d} ({why}" + (f"; tasks: {', '.join(inside)})" if inside else ")"))
                return
            time.sleep(0.1)
