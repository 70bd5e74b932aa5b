"""A container's main process killed on its node with SIGKILL: no preStop, no SIGTERM, no grace
period — what a kernel OOM kill or a segfault does to a database, unlike deleting its pod.

This needs the node's process table: the experiment must run on the node as root (the embedded
cluster of provider local runs its pods on this host). The container is found by the ID the
kubelet reports in the pod's status, and only processes whose cgroup names that ID are looked
at, so nothing outside that one container is ever signalled. Elsewhere the action stops with one
line before anything is touched.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taskflow_chaos.checks import outcome
from taskflow_chaos.clock import event, fault_clock
from taskflow_chaos.pods import core
from taskflow_chaos.target import target_of

PROC = Path("/proc")


def container_id(status_id: str) -> str:
    """`containerd://0123…` → `0123…` (the kubelet's runtime prefix dropped)."""
    return status_id.split("://", 1)[-1]


def processes_of(identifier: str, proc: Path = PROC) -> dict[int, int]:
    """PID → parent PID of every process on this host whose cgroup path names the container."""
    found: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if identifier not in (entry / "cgroup").read_text():
                continue
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name in parentheses may hold spaces: the parent PID is 2 fields after ')'.
        found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def main_process(processes: Mapping[int, int]) -> int:
    """The container's PID 1 as the host sees it: the one process whose parent is not in the container."""
    roots = [pid for pid, parent in processes.items() if parent not in processes]
    if len(roots) != 1:
        raise RuntimeError(f"expected one main process in the container, found {sorted(roots)}")
    return roots[0]


def kill_container_on_node(
    pod: str,
    container: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    namespace = target_of(configuration).namespace
    status = core(secrets).read_namespaced_pod(pod, namespace).status
    running = [s for s in status.container_statuses or [] if s.name == container and s.container_id]
    if not running:
        raise RuntimeError(f"pod {namespace}/{pod} has no running container {container!r}")
    identifier = container_id(running[0].container_id)
    processes = processes_of(identifier)
    if not processes:
        raise RuntimeError(
            f"no process of container {identifier[:12]} ({pod}/{container}) on this host: the node-level"
            " kill must run as root on the node (provider local); elsewhere use postgres-kill-under-writes"
        )
    pid = main_process(processes)
    fault_clock()
    os.kill(pid, signal.SIGKILL)
    return outcome(
        events=[event(f"SIGKILL to {pod}/{container} main process (host PID {pid}) on the node")],
        killed_pid=pid,
        processes_in_container=len(processes),
    )
