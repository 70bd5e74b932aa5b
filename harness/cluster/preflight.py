"""Checks before `up` touches anything: root, kernel features, free ports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from . import component
from .errors import ClusterError
from .paths import Layout
from .settings import NETWORK, Network, listen_ports


def require_root() -> None:
    if os.geteuid() != 0:
        raise ClusterError(
            "the embedded cluster must run as root (it creates a bridge, iptables rules, cgroups and mounts)",
            "run it as root, e.g. `sudo -E nox -s cluster -- up`",
        )


def require_kernel() -> None:
    problems: list[str] = []
    filesystems = Path("/proc/filesystems").read_text()
    if "overlay" not in filesystems:
        problems.append("overlayfs (containerd's snapshotter)")
    if not Path("/proc/sys/net/bridge").exists():
        problems.append("br_netfilter (/proc/sys/net/bridge missing)")
    if (
        shutil.which("iptables")
        and subprocess.run(["iptables", "-t", "nat", "-L", "-n"], capture_output=True, check=False).returncode
        != 0
    ):
        problems.append("iptables nat table (netfilter)")
    if not Path("/sys/fs/cgroup/memory").is_dir():
        problems.append("cgroup v1 memory controller at /sys/fs/cgroup/memory")
    if problems:
        raise ClusterError(
            "missing kernel feature(s): " + "; ".join(problems),
            "use a kernel with these built in or loaded (nothing can be modprobed on these hosts)",
        )


def _listeners() -> dict[int, list[tuple[str, int]]]:
    """port -> [(process name, pid)] of TCP listeners (from `ss`)."""
    proc = subprocess.run(["ss", "-H", "-ltnp"], capture_output=True, text=True, check=False)
    result: dict[int, list[tuple[str, int]]] = {}
    for line in proc.stdout.splitlines():
        cols = line.split()
        if len(cols) < 4:
            continue
        port_s = cols[3].rsplit(":", 1)[-1]
        if not port_s.isdigit():
            continue
        owners = [(m.group(1), int(m.group(2))) for m in re.finditer(r'"([^"]+)",pid=(\d+)', line)]
        result.setdefault(int(port_s), []).extend(owners or [("?", 0)])
    return result


def require_free_ports(layout: Layout, net: Network = NETWORK, ports: dict[int, str] | None = None) -> None:
    """`ports` (port -> who wants it) defaults to the core's; the add-ons pass their own."""
    ours = {
        rec.pid
        for name in component.recorded_names(layout)
        if (rec := component.running(layout, name)) is not None
    }
    listeners = _listeners()
    clashes: list[str] = []
    for port, wanted_by in (listen_ports(net) if ports is None else ports).items():
        for owner, pid in listeners.get(port, []):
            if pid not in ours:
                clashes.append(f"  - port {port} (for {wanted_by}) is used by {owner} pid {pid}")
    if clashes:
        raise ClusterError(
            "ports the cluster needs are in use:\n" + "\n".join(clashes),
            "stop those processes (if they are a crashed cluster's, `python -m harness.cluster down` "
            "cannot know them: stop them by hand), then run `up` again",
        )
