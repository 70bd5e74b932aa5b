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


def test_another_state_dir_is_refused_one_line_per_conflict_and_nothing_written(
    cluster: Kube, tmp_path: Path
) -> None:
    stranger = Layout(state=tmp_path / "other-state", cache=cluster.layout.cache)
    with pytest.raises(ClusterError) as caught:
        lifecycle.up(stranger, with_addons=False)
    text = caught.value.render()
    apiserver = running(cluster.layout, "kube-apiserver")
    assert apiserver is not None
    assert f"port 6443 (for kube-apiserver) is used by kube-apiserver pid {apiserver.pid}" in text
    assert "network interface tfbr0 exists and is not this cluster's" in text
    assert "overlaps the cluster CIDRs" in text
    assert all("fix:" in line for line in text.splitlines() if line.startswith("  - "))
    assert not stranger.state.exists()  # refused before the first record


def test_a_foreign_non_empty_state_dir_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "someone-elses"
    state.mkdir()
    (state / "data.db").write_text("precious")
    problem = preflight.state_dir_problem(Layout(state=state, cache=tmp_path / "cache"))
    assert problem is not None and "not empty and not ours" in problem
    assert sorted(p.name for p in state.iterdir()) == ["data.db"]
