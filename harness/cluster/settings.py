"""Pinned versions and the network plan of the embedded cluster (see cluster/README.md)."""

from __future__ import annotations

from dataclasses import dataclass

KUBERNETES_VERSION = "v1.34.4"
ETCD_VERSION = "v3.6.5"
# What the cluster uses of a Kubernetes release: built from k8s.io/kubernetes/cmd/<name>, or
# downloaded as dl.k8s.io/release/<version>/bin/linux/<arch>/<name>.
KUBERNETES_BINARIES = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
)
# Sandbox image name the kubelet/containerd expect; we build it from Debian's catatonit.
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


@dataclass(frozen=True)
class Network:
    bridge: str = "tfbr0"
    node_ip: str = "10.244.0.1"
    pod_cidr: str = "10.244.0.0/24"
    pod_prefix_len: int = 24
    service_cidr: str = "10.96.0.0/16"
    # Second bridge that only holds the service-CIDR route (no dummy netdev on these hosts).
    service_bridge: str = "tfsvc0"
    kubernetes_service_ip: str = "10.96.0.1"
    cluster_dns: str = "10.96.0.10"
    cluster_domain: str = "cluster.local"
    apiserver_port: int = 6443
    etcd_client_port: int = 2379
    etcd_peer_port: int = 2380
    kubelet_port: int = 10250
    # Firewall chain we own; jumps to it are the only edits to built-in chains.
    guard_chain: str = "TASKFLOW-GUARD"


NETWORK = Network()


# Ports the components listen on; checked before start so a clash names its owner.
def listen_ports(net: Network = NETWORK) -> dict[int, str]:
    return {
        net.apiserver_port: "kube-apiserver",
        net.etcd_client_port: "etcd",
        net.etcd_peer_port: "etcd (peer)",
        net.kubelet_port: "kubelet",
        10248: "kubelet (healthz)",
        10249: "kube-proxy (metrics)",
        10256: "kube-proxy (healthz)",
        10257: "kube-controller-manager",
        10259: "kube-scheduler",
    }
