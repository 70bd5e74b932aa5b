"""The safety rules: cluster CIDRs stay local, cgroups sit below the cgroup `up` started in."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.cluster import network
from harness.cluster.context import load_manifest
from harness.cluster.settings import NETWORK

from .kube import Kube, echo_manifest


def _route_dev(address: str) -> str:
    out = subprocess.run(["ip", "-o", "route", "get", address], capture_output=True, text=True, check=True)
    words = out.stdout.split()
    return words[words.index("dev") + 1]


def test_cluster_cidrs_route_to_the_local_bridge(cluster: Kube) -> None:
    assert _route_dev("10.96.200.200") == NETWORK.bridge
    assert _route_dev("10.244.0.200") == NETWORK.bridge


def test_guard_is_the_first_rule_of_forward_and_output(cluster: Kube) -> None:
    uplink = network.uplink()
    for chain in ("FORWARD", "OUTPUT"):
        first = subprocess.run(["iptables", "-S", chain, "1"], capture_output=True, text=True, check=True)
        rule = first.stdout.strip()
        assert rule.startswith(f"-A {chain} ") and rule.endswith(f"-j {NETWORK.guard_chain}"), rule
    rules = subprocess.run(
        ["iptables", "-S", NETWORK.guard_chain], capture_output=True, text=True, check=True
    )
    for cidr in (NETWORK.pod_cidr, NETWORK.service_cidr):
        assert f"-d {cidr} -o {uplink}" in rules.stdout
        assert f"-s {cidr} -o {uplink}" in rules.stdout


def test_pod_cgroups_are_below_the_recorded_root(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=echo", 1)
    root = load_manifest(cluster.layout)["cgroup_root"]
    uid = pod["metadata"]["uid"]
    memory_pods = list(Path("/sys/fs/cgroup/memory", root.lstrip("/")).glob(f"kubepods/*/pod{uid}"))
    assert memory_pods, f"pod {uid} has no memory cgroup below {root}"
    assert root.endswith("/taskflow")
