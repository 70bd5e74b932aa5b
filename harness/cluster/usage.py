"""Memory the cluster uses: RSS of recorded components, containerd shims and pod processes."""

from __future__ import annotations

import os
from pathlib import Path

from . import component
from .paths import Layout


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _pods_pids(cgroup_root: str) -> set[int]:
    top = Path("/sys/fs/cgroup/memory", cgroup_root.lstrip("/"))
    pids: set[int] = set()
    if top.is_dir():
        for directory, _, files in os.walk(top):
            if "cgroup.procs" in files:
                text = (Path(directory) / "cgroup.procs").read_text()
                pids.update(int(p) for p in text.split())
    return pids


def _shim_pids(layout: Layout) -> set[int]:
    needle = str(layout.containerd_socket).encode()
    found: set[int] = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"containerd-shim" in cmdline and needle in cmdline:
                found.add(int(proc.name))
    return found


def rss_by_part(layout: Layout, cgroup_root: str | None) -> dict[str, int]:
    """KiB of RSS per component name, plus 'containerd shims' and 'pods'."""
    parts: dict[str, int] = {}
    for name in component.recorded_names(layout):
        rec = component.running(layout, name)
        if rec is not None:
            parts[name] = _rss_kib(rec.pid)
    parts["containerd shims"] = sum(_rss_kib(p) for p in _shim_pids(layout))
    parts["pods"] = sum(_rss_kib(p) for p in _pods_pids(cgroup_root)) if cgroup_root else 0
    return parts
