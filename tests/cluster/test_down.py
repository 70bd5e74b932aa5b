"""`down` leaves no process, mount, interface, iptables rule, cgroup or state behind.

Runs last (see conftest); the session fixture brings the cluster back if it was up before.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.cluster import lifecycle, mounts, network
from harness.cluster.component import process_running, read_pid, recorded_names
from harness.cluster.context import load_manifest
from harness.cluster.settings import NETWORK

from .kube import Kube, echo_manifest


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


def test_down_removes_everything(cluster: Kube, namespace: str, test_image: str) -> None:
    layout = cluster.layout
    cluster.apply(echo_manifest(test_image, replicas=2), namespace)
    cluster.wait_ready_pods(namespace, "app=echo", 2)
    pids = [rec.pid for n in recorded_names(layout) if (rec := read_pid(layout, n)) is not None]
    manifest = load_manifest(layout)
    assert pids and manifest.get("cgroup_root")

    problems = lifecycle.down(layout)

    assert problems == []
    # exited processes may linger as zombies until PID 1 reaps them: those do not count
    assert [p for p in pids if process_running(p)] == []
    assert _processes_mentioning(str(layout.state)) == []
    assert mounts.mounts_under(layout.state, lifecycle.CONTAINERD_RUN) == []
    assert not network.link_exists(NETWORK.bridge)
    assert network.owned_rules() == {}
    leftovers = [
        str(d) for d in Path("/sys/fs/cgroup").glob(f"*/{manifest['cgroup_root'].lstrip('/')}") if d.exists()
    ]
    assert leftovers == []
    assert not layout.state.exists()
    cni_cache = lifecycle.CNI_RESULTS
    assert not cni_cache.is_dir() or [e for e in cni_cache.iterdir() if e.name.startswith("taskflow-")] == []
    links = lifecycle.KUBELET_LOG_LINKS
    assert not links.is_dir() or [ln for ln in links.iterdir() if str(layout.state) in os.readlink(ln)] == []
    for key, value in manifest.get("sysctls_previous", {}).items():
        assert (Path("/proc/sys") / key).read_text().strip() == value
