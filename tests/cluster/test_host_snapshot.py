"""`down` leaves the host byte-identical to before `up`: after a full run with pods, after an
`up` SIGKILLed at each stage, and with another runtime's chain, mount, bridge and files planted
beforehand (they survive untouched). Runs last (see conftest); the session fixture brings the
cluster back if it was up before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cluster import hoststate, lifecycle, testimage
from harness.cluster.component import process_running, read_pid, recorded_names
from harness.cluster.core import CORE_ACTIONS
from harness.cluster.paths import Layout

from . import snapshot
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
        if text in cmdline and process_running(int(proc.name)):
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


@pytest.fixture(scope="module")
def clean_host(cluster: Kube) -> dict[str, list[str]]:
    """The host with no cluster: the reference every test of this module compares against."""
    assert lifecycle.down(cluster.layout) == []
    return snapshot.take(cluster.layout.state)


def _run_pods(cluster: Kube, image: str, namespace: str, replicas: int) -> None:
    """Pods make the runtime's mounts, veths, CNI cache files, log links and kube-proxy chains."""
    cluster.load_image(testimage.image_tar(cluster.layout))
    cluster.run("create", "namespace", namespace)
    cluster.apply(echo_manifest(image, replicas=replicas), namespace)
    cluster.wait_ready_pods(namespace, "app=echo", replicas)


def _assert_same(layout: Layout, before: dict[str, list[str]]) -> None:
    assert _processes_mentioning(str(layout.state)) == []
    diff = snapshot.differences(before, snapshot.take(layout.state))
    assert diff == "", f"the host differs after `down`:\n{diff}"


def test_up_with_pods_then_down_restores_the_host(
    cluster: Kube, clean_host: dict[str, list[str]], test_image: str
) -> None:
    layout = cluster.layout
    lifecycle.up(layout)
    _run_pods(cluster, test_image, "snapshot", 2)
    pids = [rec.pid for n in recorded_names(layout) if (rec := read_pid(layout, n)) is not None]
    assert pids

    assert lifecycle.down(layout) == []

    assert [p for p in pids if process_running(p)] == []
    _assert_same(layout, clean_host)


STAGES = [step.name for step in CORE_ACTIONS][1:]  # killing before the state dir changes nothing


def _up_killed_at(layout: Layout, stage: str) -> list[str]:
    """Run `up --no-addons` and SIGKILL it the moment it announces `stage`; returns its output."""
    env = {**os.environ, "TASKFLOW_CLUSTER_STATE": str(layout.state), "TASKFLOW_CACHE": str(layout.cache)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cluster", "up", "--no-addons"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 180
    for line in proc.stderr:
        seen.append(line.rstrip())
        if line.rstrip().endswith(f"== {stage}"):
            proc.send_signal(signal.SIGKILL)
            break
        assert time.monotonic() < deadline, f"`up` did not reach {stage}"
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "\n".join(seen[-20:])
    return seen


@pytest.mark.parametrize("stage", STAGES)
def test_up_killed_at_each_stage_then_down_restores_the_host(
    cluster: Kube, clean_host: dict[str, list[str]], stage: str
) -> None:
    layout = cluster.layout
    _up_killed_at(layout, stage)
    assert lifecycle.down(layout) == []
    _assert_same(layout, clean_host)


FOREIGN_BRIDGE = "tfforeign0"
FOREIGN_MOUNT = hoststate.CONTAINERD_RUN / "foreign-runtime"
FOREIGN_CNI = hoststate.CNI_RESULTS / "cni-loopback-foreign0123-lo"


@pytest.fixture
def planted(clean_host: dict[str, list[str]]) -> Iterator[None]:
    """Another runtime's bridge, chains (iptables and ip6tables), mount and CNI cache file."""
    made = [
        p for p in (hoststate.CONTAINERD_RUN, FOREIGN_CNI.parent.parent, FOREIGN_CNI.parent) if not p.exists()
    ]
    subprocess.run(["ip", "link", "add", FOREIGN_BRIDGE, "type", "bridge"], check=True)
    for tool in ("iptables", "ip6tables"):
        subprocess.run([tool, "-N", "CNI-FOREIGN"], check=True)
        subprocess.run([tool, "-A", "FORWARD", "-j", "CNI-FOREIGN"], check=True)
    FOREIGN_MOUNT.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "foreign", str(FOREIGN_MOUNT)], check=True)
    FOREIGN_CNI.parent.mkdir(parents=True, exist_ok=True)
    FOREIGN_CNI.write_text("{}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(FOREIGN_MOUNT)], check=False)
        FOREIGN_MOUNT.rmdir()
        FOREIGN_CNI.unlink()
        for directory in reversed(made):
            directory.rmdir()
        for tool in ("iptables", "ip6tables"):
            subprocess.run([tool, "-D", "FORWARD", "-j", "CNI-FOREIGN"], check=False)
            subprocess.run([tool, "-X", "CNI-FOREIGN"], check=False)
        subprocess.run(["ip", "link", "del", FOREIGN_BRIDGE], check=False)


def test_another_runtimes_bridge_chains_mount_and_files_survive(
    cluster: Kube, planted: None, test_image: str
) -> None:
    layout = cluster.layout
    with_foreign = snapshot.take(layout.state)
    lifecycle.up(layout, with_addons=False)
    _run_pods(cluster, test_image, "foreign", 1)
    assert lifecycle.down(layout) == []
    _assert_same(layout, with_foreign)
