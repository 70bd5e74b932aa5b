"""The node registers, reports the pinned version and is Ready; `up` is idempotent."""

from __future__ import annotations

import time

from harness.cluster import lifecycle
from harness.cluster.component import running
from harness.cluster.configs import NODE_NAME
from harness.cluster.settings import KUBERNETES_VERSION

from .kube import Kube


def test_node_is_ready_with_pinned_version(cluster: Kube) -> None:
    node = cluster.json("get", "node", NODE_NAME)
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert ready["Ready"] == "True", node["status"]["conditions"]
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == KUBERNETES_VERSION
    assert info["containerRuntimeVersion"].startswith("containerd://1.7")
    version = cluster.json("version")
    assert version["serverVersion"]["gitVersion"] == KUBERNETES_VERSION
    assert version["clientVersion"]["gitVersion"] == KUBERNETES_VERSION


def test_up_again_changes_nothing(cluster: Kube) -> None:
    names = ["etcd", "kube-apiserver", "kubelet", "kube-proxy", "containerd"]
    before = {n: running(cluster.layout, n) for n in names}
    started = time.monotonic()
    lifecycle.up(cluster.layout)
    assert time.monotonic() - started < 30
    assert {n: running(cluster.layout, n) for n in names} == before


def test_status_says_up(cluster: Kube) -> None:
    healthy, report = lifecycle.status(cluster.layout)
    assert healthy, report
    assert "guard                      active" in report
