"""Faults `up` must survive or explain: a crashed component, ports held by someone else."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from harness.cluster import lifecycle, preflight
from harness.cluster.component import running
from harness.cluster.errors import ClusterError
from harness.cluster.paths import Layout

from .kube import Kube


def test_up_restarts_a_crashed_component(cluster: Kube) -> None:
    before = running(cluster.layout, "kube-scheduler")
    assert before is not None
    os.kill(before.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while running(cluster.layout, "kube-scheduler") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    healthy, report = lifecycle.status(cluster.layout)
    assert not healthy and "kube-scheduler             NOT RUNNING" in report
    lifecycle.up(cluster.layout)
    after = running(cluster.layout, "kube-scheduler")
    assert after is not None and after.pid != before.pid


def test_ports_held_by_another_cluster_are_named_with_their_owner(cluster: Kube, tmp_path: Path) -> None:
    stranger = Layout(state=tmp_path / "other-state", cache=tmp_path / "cache")
    with pytest.raises(ClusterError) as caught:
        preflight.require_free_ports(stranger)
    text = caught.value.render()
    apiserver = running(cluster.layout, "kube-apiserver")
    assert apiserver is not None
    assert f"port 6443 (for kube-apiserver) is used by kube-apiserver pid {apiserver.pid}" in text
    assert "fix:" in text
