"""Where the cluster keeps things: binaries in a cache, everything of one run in a state dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SRC = REPO_ROOT / "cluster"


def cache_dir() -> Path:
    base = os.environ.get("TASKFLOW_CACHE") or str(Path.home() / ".cache" / "taskflow")
    return Path(base)


def state_dir() -> Path:
    """Per-host state of the running cluster; outside the repo so a fresh clone sees it too."""
    return Path(os.environ.get("TASKFLOW_CLUSTER_STATE", "/var/lib/taskflow-cluster"))


@dataclass(frozen=True)
class Layout:
    """Every path of one cluster, derived from the state dir and the cache dir."""

    state: Path
    cache: Path

    @classmethod
    def default(cls) -> Layout:
        return cls(state=state_dir(), cache=cache_dir())

    # binaries
    @property
    def bin_root(self) -> Path:
        return self.cache / "bin"

    @property
    def lifecycle_lock(self) -> Path:
        """Held by `up` and `down` for their whole run (in the cache: it outlives the state)."""
        return self.cache / "cluster.lock"

    @property
    def kubectl_link(self) -> Path:
        """Stable path a person (and the harness) can run, whatever the version."""
        return self.bin_root / "kubectl"

    @property
    def images(self) -> Path:
        return self.cache / "images"

    # state
    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def config(self) -> Path:
        return self.state / "config"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def run(self) -> Path:
        return self.state / "run"

    @property
    def etcd_data(self) -> Path:
        return self.state / "etcd"

    @property
    def kubelet_root(self) -> Path:
        return self.state / "kubelet"

    @property
    def containerd_root(self) -> Path:
        return self.state / "containerd"

    @property
    def containerd_state(self) -> Path:
        return self.run / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_state / "containerd.sock"

    @property
    def cni_conf(self) -> Path:
        return self.config / "cni"

    @property
    def cni_state(self) -> Path:
        return self.state / "cni"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state / "admin.kubeconfig"

    @property
    def journal(self) -> Path:
        """Every host change `up` made, recorded before it was made (see journal.py)."""
        return self.state / "host-changes.json"

    @property
    def manifest(self) -> Path:
        """Facts of the running cluster (cgroup root, add-on config digests); not host changes."""
        return self.state / "created.json"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def pidfile(self, component: str) -> Path:
        return self.pids / f"{component}.pid"
