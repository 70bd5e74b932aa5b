"""The safety rules: cluster CIDRs stay local, cgroups sit below the cgroup `up` started in."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.cluster import lifecycle, network
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


def _iptables(*args: str) -> str:
    return subprocess.run(["iptables", "-w", "5", *args], capture_output=True, text=True, check=True).stdout


def test_guard_is_an_allow_list_first_in_input_forward_and_output(cluster: Kube) -> None:
    for chain in network.guard_chains():
        assert _iptables("-S", chain.hook, "1").strip() == f"-A {chain.hook} -j {chain.name}"
        rules = [r for r in _iptables("-S", chain.name).splitlines() if r.startswith("-A ")]
        returns = [r for r in rules if r.endswith("-j RETURN")]
        drops = [r for r in rules if r.endswith("-j DROP")]
        # only the bridge and loopback are allowed; every other interface is dropped, both ways
        assert rules == returns + drops
        assert all(f" {NETWORK.bridge}" in r or " lo" in r for r in returns)
        for cidr in (NETWORK.pod_cidr, NETWORK.service_cidr):
            assert any(f"-s {cidr}" in r for r in drops) and any(f"-d {cidr}" in r for r in drops)


def test_status_puts_a_removed_guard_back(cluster: Kube) -> None:
    _iptables("-D", "FORWARD", "-j", f"{NETWORK.guard_chain}-FWD")
    assert not network.guard_active()
    lifecycle.status(cluster.layout)
    assert network.guard_active()


def test_pod_cgroups_are_below_the_recorded_root(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=echo", 1)
    root = load_manifest(cluster.layout)["cgroup_root"]
    uid = pod["metadata"]["uid"]
    memory_pods = list(Path("/sys/fs/cgroup/memory", root.lstrip("/")).glob(f"kubepods/*/pod{uid}"))
    assert memory_pods, f"pod {uid} has no memory cgroup below {root}"
    assert root.endswith("/taskflow")
