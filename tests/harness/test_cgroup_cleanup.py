"""`down`'s cgroup step on a real v1 hierarchy: what still runs below the kubelet's root is killed
before the rmdirs (a CI run left pod cgroups behind when containerd had not stopped every task),
and a cgroup that cannot go is reported with why."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cluster import cgroups

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not cgroups.is_v1(), reason="needs root on a cgroup v1/hybrid host"
)


@pytest.fixture()
def root() -> Iterator[str]:
    """A scratch root of our own at the top of every hierarchy, removed whatever happens."""
    path = f"/taskflow-test-{uuid.uuid4().hex[:8]}/taskflow"
    created = cgroups.ensure_root(path + "/kubepods/pod1/ctr1")
    yield path
    assert cgroups.kill_tasks_below(path, timeout=5) == {}
    assert cgroups.remove_tree(path, created, timeout=5) == []


def _run_inside(directory: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["sleep", "300"])
    for ctrl in cgroups.controllers():
        Path(cgroups.CGROUP_FS, ctrl, directory.lstrip("/"), "cgroup.procs").write_text(str(proc.pid))
    return proc


def test_a_task_still_in_a_pod_cgroup_is_killed_and_every_dir_removed(root: str) -> None:
    container = _run_inside(root + "/kubepods/pod1/ctr1")
    created = cgroups.path_dirs(root)

    assert cgroups.tasks_below(root)  # the pod process is there, as after a missed containerd kill
    assert cgroups.remove_tree(root, created, timeout=5) == []

    assert container.wait(timeout=5) == -9
    assert [d for d in created if Path(d).is_dir()] == []


def test_a_cgroup_that_stays_is_reported_with_the_reason(root: str) -> None:
    container = root.lstrip("/") + "/kubepods/pod1/ctr1"
    kept = [str(cgroups.CGROUP_FS / c / container) for c in cgroups.controllers()]

    left = cgroups.remove_tree(root, [], keep=kept, timeout=0.3)

    assert left, "the parents of a kept cgroup cannot be removed"
    assert all("busy" in entry.lower() for entry in left), left
