"""The node-level kill finds exactly one container's processes and its main process."""

from __future__ import annotations

from pathlib import Path

import pytest
from taskflow_chaos.node import container_id, main_process, processes_of

CONTAINER = "4f1e0c2b9a7d"


def fake_process(proc: Path, pid: int, parent: int, cgroup: str, command: str = "postgres") -> None:
    entry = proc / str(pid)
    entry.mkdir()
    (entry / "cgroup").write_text(cgroup)
    (entry / "stat").write_text(f"{pid} ({command}) S {parent} {pid} {pid} 0 -1\n")


def test_container_id_drops_the_runtime_prefix() -> None:
    assert container_id(f"containerd://{CONTAINER}") == CONTAINER
    assert container_id(CONTAINER) == CONTAINER


def test_only_processes_whose_cgroup_names_the_container(tmp_path: Path) -> None:
    ours = f"0::/kubepods/burstable/pod1234/{CONTAINER}\n"
    fake_process(tmp_path, 4100, 900, ours)
    fake_process(tmp_path, 4101, 4100, ours, command="postgres: checkpointer")
    fake_process(tmp_path, 4200, 900, "0::/kubepods/burstable/pod1234/somebodyelse\n")
    fake_process(tmp_path, 900, 1, "0::/system.slice/containerd.service\n", command="containerd-shim")
    (tmp_path / "self").mkdir()
    assert processes_of(CONTAINER, tmp_path) == {4100: 900, 4101: 4100}
    assert main_process(processes_of(CONTAINER, tmp_path)) == 4100


def test_no_single_main_process_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="expected one main process"):
        main_process({10: 1, 20: 2})
