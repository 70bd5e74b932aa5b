"""Checks before `up` touches anything (before the first record is written): root, kernel
features, the state dir, another cluster's bridge, routes, chains and ports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from . import component, network
from .errors import ClusterError
from .journal import Journal
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
        and subprocess.run(
            ["iptables", "-t", "nat", "-L", "-n"], capture_output=True, check=False, timeout=60
        ).returncode
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
    proc = subprocess.run(["ss", "-H", "-ltnp"], capture_output=True, text=True, check=False, timeout=60)
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


def port_clashes(layout: Layout, net: Network = NETWORK, ports: dict[int, str] | None = None) -> list[str]:
    """One line per port someone else listens on; `ports` (port -> who wants it) defaults to the core's."""
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
                clashes.append(f"port {port} (for {wanted_by}) is used by {owner} pid {pid}")
    return clashes


def require_free_ports(layout: Layout, net: Network = NETWORK, ports: dict[int, str] | None = None) -> None:
    """Used by the add-ons (their own ports) once the core runs."""
    clashes = port_clashes(layout, net, ports)
    if clashes:
        raise ClusterError(
            "ports the cluster needs are in use:\n" + "\n".join(f"  - {c}" for c in clashes),
            "stop those processes (if they are a crashed cluster's, `python -m harness.cluster down` "
            "cannot know them: stop them by hand), then run `up` again",
        )


def state_dir_problem(layout: Layout) -> str | None:
    """The state dir must be absent, empty, or ours (it holds our journal)."""
    state = layout.state
    if not state.exists():
        return None
    if not state.is_dir():
        return f"state dir {state} is a file, not a directory; fix: set TASKFLOW_CLUSTER_STATE to a free path"
    if Journal(layout.journal).exists() or layout.manifest.exists():  # ours (or the previous version's)
        return None
    entries = sorted(p.name for p in state.iterdir())
    if not entries:
        return None
    return (
        f"state dir {state} is not empty and not ours ({', '.join(entries[:4])}...); "
        "fix: point TASKFLOW_CLUSTER_STATE at an empty or absent directory"
    )


def host_conflicts(layout: Layout, net: Network = NETWORK) -> list[str]:
    """Everything on the host that belongs to someone else and would clash, one line each with the fix."""
    journal = Journal(layout.journal)
    problems: list[str] = []
    if (state := state_dir_problem(layout)) is not None:
        problems.append(state)
    bridge_ours = journal.get(f"link:{net.bridge}") is not None
    if network.link_exists(net.bridge) and not bridge_ours:
        problems.append(
            f"network interface {net.bridge} exists and is not this cluster's (no record in {layout.state}); "
            f"fix: `down` with the state dir that made it, or `ip link del {net.bridge}`"
        )
    routes = subprocess.run(
        ["ip", "-o", "-4", "route", "show", "table", "all"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout
    for route in network.overlapping_routes(
        (net.pod_cidr, net.service_cidr), routes, net.bridge if bridge_ours else None
    ):
        problems.append(
            f"route `{route}` overlaps the cluster CIDRs {net.pod_cidr} / {net.service_cidr}; "
            "fix: remove it, or change the network plan in harness/cluster/settings.py"
        )
    # Once our baseline is recorded, the KUBE-* chains added since are our kube-proxy's.
    chains = network.foreign_runtime_chains() if journal.get("chains") is None else []
    for chain in chains:
        problems.append(
            f"iptables chain `{chain}` belongs to another Kubernetes on this host (kube-proxy would "
            "fight over it); "
            "fix: stop that cluster (or `down` with its state dir) first"
        )
    for clash in port_clashes(layout, net):
        problems.append(f"{clash}; fix: stop it (a crashed cluster of another state dir: stop it by pid)")
    return problems


def require_no_conflicts(layout: Layout, net: Network = NETWORK) -> None:
    problems = host_conflicts(layout, net)
    if problems:
        raise ClusterError(
            f"`up` would clash with what is on this host ({len(problems)}); nothing was changed:\n"
            + "\n".join(f"  - {p}" for p in problems),
            "see each line; then run `up` again",
        )
