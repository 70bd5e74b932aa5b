"""Cluster DNS (CoreDNS add-on): pods resolve the API server and Services by short name."""

from __future__ import annotations

import pytest

from harness.cluster.addons.dnsquery import DnsError, query_a
from harness.cluster.settings import NETWORK

from .kube import Kube, echo_manifest


def _lookup(cluster: Kube, namespace: str, pod: str, name: str) -> list[str]:
    out = cluster.run("-n", namespace, "exec", pod, "--", "/testimage", "lookup", name, timeout=30)
    return out.split()


def test_pod_resolves_kubernetes_default(cluster: Kube, namespace: str, test_image: str) -> None:
    cluster.apply(echo_manifest(test_image, replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=echo", 1)
    name = f"kubernetes.default.svc.{NETWORK.cluster_domain}"
    assert _lookup(cluster, namespace, pod["metadata"]["name"], name) == [NETWORK.kubernetes_service_ip]


def test_pod_resolves_service_by_short_name_and_calls_it(
    cluster: Kube, namespace: str, test_image: str
) -> None:
    cluster.apply(echo_manifest(test_image, name="client", replicas=1), namespace)
    cluster.apply(echo_manifest(test_image, name="backend", replicas=1), namespace)
    (client,) = cluster.wait_ready_pods(namespace, "app=client", 1)
    (backend,) = cluster.wait_ready_pods(namespace, "app=backend", 1)
    cluster_ip = cluster.json("-n", namespace, "get", "svc", "backend")["spec"]["clusterIP"]
    client_name = client["metadata"]["name"]
    # the short name resolves through the pod's search path (<ns>.svc.cluster.local first)
    assert _lookup(cluster, namespace, client_name, "backend") == [cluster_ip]
    answer = cluster.run(
        "-n", namespace, "exec", client_name, "--", "/testimage", "get", "http://backend/", timeout=30
    )
    assert backend["metadata"]["name"] in answer


def test_names_outside_the_cluster_get_nxdomain_not_an_upstream_answer(cluster: Kube) -> None:
    # asked from the node through the kube-dns ClusterIP, as a pod would
    inside = f"kube-dns.kube-system.svc.{NETWORK.cluster_domain}"
    assert query_a(NETWORK.cluster_dns, inside) == [NETWORK.cluster_dns]
    with pytest.raises(DnsError, match="NXDOMAIN"):
        query_a(NETWORK.cluster_dns, "registry.example.org")
