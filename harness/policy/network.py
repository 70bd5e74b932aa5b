"""NetworkPolicies: deny by default, open exactly the documented paths, and DNS."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.contracts import (
    DNS_NAMESPACE,
    DNS_POD_LABELS,
    DNS_PORT,
    INGRESS_CONTROLLER,
    NAME_LABEL,
    NETWORK_PATHS,
)
from harness.policy.ingress import taskflow_ingresses
from harness.policy.model import Finding, rule
from harness.policy.netpol import (
    EGRESS,
    INGRESS,
    Peer,
    Verdict,
    app_pods,
    connection,
    container_ports,
    namespace_peer_labels,
    policy_types,
)
from harness.policy.objects import Manifests, dig, mapping, namespace_of, sequence

# Where each ingress class's controller runs, as seen by the pods it connects to.
INGRESS_CONTROLLER_PEERS = {
    # ingress-nginx as kind's and minikube's installs deploy it
    "nginx": Peer(
        name="ingress-nginx controller",
        namespace="ingress-nginx",
        namespace_labels=namespace_peer_labels("ingress-nginx"),
        pod_labels={NAME_LABEL: "ingress-nginx", "app.kubernetes.io/component": "controller"},
    ),
    # Traefik on the embedded cluster is a host process: it connects from the node's bridge address.
    "traefik": Peer(name="Traefik on the node", ip="10.244.0.1"),
}
ELSEWHERE = "elsewhere"
OUTSIDE_ADDRESS = "198.51.100.7"  # TEST-NET-2: stands for any address beyond the cluster
EXTERNAL_PORTS = (80, 443)


def _ingress_controller(manifests: Manifests) -> Peer | None:
    for ingress in taskflow_ingresses(manifests):
        peer = INGRESS_CONTROLLER_PEERS.get(str(dig(ingress, "spec", "ingressClassName")))
        if peer is not None:
            return peer
    # An unknown class is ING-CLASS's finding; without a controller there is nothing to check here.
    return None


def _strangers(namespace: str) -> list[Peer]:
    intruder = {NAME_LABEL: "intruder"}
    return [
        Peer("another pod in the namespace", namespace, namespace_peer_labels(namespace), intruder),
        Peer("a pod in another namespace", ELSEWHERE, namespace_peer_labels(ELSEWHERE), intruder),
        Peer("an address outside the cluster", ip=OUTSIDE_ADDRESS),
    ]


def _blamed(verdict: Verdict, namespace: str, receiver: str) -> str:
    policies = verdict.ingress_policies or verdict.egress_policies
    return ", ".join(policies) if policies else f"Namespace/{namespace} (no NetworkPolicy selects {receiver})"


@rule(
    "NET-DEFAULT-DENY",
    "FR-002",
    "each namespace has a NetworkPolicy selecting all pods that denies all Ingress and Egress",
    "add NetworkPolicy default-deny-all: podSelector {}, policyTypes [Ingress, Egress], no rules",
)
def default_deny(manifests: Manifests) -> Iterator[Finding]:
    for namespace in sorted({ns for w in manifests.workloads() if (ns := namespace_of(w))}):
        denies = [
            policy
            for policy in manifests.of_kind("NetworkPolicy")
            if namespace_of(policy) == namespace
            and not mapping(dig(policy, "spec", "podSelector"))
            and {INGRESS, EGRESS} <= set(policy_types(policy))
            and not sequence(dig(policy, "spec", "ingress"))
            and not sequence(dig(policy, "spec", "egress"))
        ]
        if not denies:
            yield Finding(
                f"Namespace/{namespace}", "has no default-deny NetworkPolicy for Ingress and Egress"
            )


@rule(
    "NET-DOCUMENTED-PATHS",
    "FR-002",
    "NetworkPolicies open exactly: ingress controller -> frontend:3000 and backend:8000, "
    "frontend -> backend:8000, backend -> mcp-server:8080, backend and mcp-server -> postgres:5432",
    "open the missing path / remove the rule that opens the undocumented one",
)
def documented_paths(manifests: Manifests) -> Iterator[Finding]:
    pods = app_pods(manifests)
    if not pods:
        return
    namespace = next(iter(pods.values())).namespace or "default"
    controller = _ingress_controller(manifests)
    expected = {
        (controller.name if source == INGRESS_CONTROLLER and controller else source, target, port)
        for source, target, port in NETWORK_PATHS
        if source != INGRESS_CONTROLLER or controller
    }
    senders = [*pods.values(), *([controller] if controller else []), *_strangers(namespace)]
    outside = _strangers(namespace)[1:]
    receivers = [
        (pod, port, protocol)
        for pod in pods.values()
        for port, protocol in container_ports(manifests, pod.name)
    ]
    receivers += [(peer, port, "TCP") for peer in outside for port in EXTERNAL_PORTS]
    for sender in senders:
        for receiver, port, protocol in receivers:
            # Only connections with an end in the namespace are governed by its policies.
            if sender is receiver or namespace not in (sender.namespace, receiver.namespace):
                continue
            verdict = connection(manifests, sender, receiver, port, protocol)
            path = f"{sender.name} -> {receiver.name}:{port}/{protocol}"
            documented = (sender.name, receiver.name, port) in expected and protocol == "TCP"
            if verdict.allowed and not documented:
                yield Finding(_blamed(verdict, namespace, receiver.name), f"opens undocumented path {path}")
            elif documented and not verdict.allowed:
                yield Finding(_blamed(verdict, namespace, receiver.name), f"blocks documented path {path}")
    for source, target, port in sorted(expected):
        if target not in pods:
            continue
        if port not in [p for p, _ in container_ports(manifests, target)]:
            yield Finding(
                f"{target}", f"documented path {source} -> {target}:{port} has no such container port"
            )


@rule(
    "NET-DNS-EGRESS",
    "FR-009",
    f"every pod may query kube-dns in {DNS_NAMESPACE} on {DNS_PORT}/UDP+TCP, and no other DNS server",
    f"allow egress to namespace {DNS_NAMESPACE} pods k8s-app=kube-dns on port {DNS_PORT} UDP and TCP only",
)
def dns_egress(manifests: Manifests) -> Iterator[Finding]:
    cluster_dns = Peer("kube-dns", DNS_NAMESPACE, namespace_peer_labels(DNS_NAMESPACE), DNS_POD_LABELS)
    foreign_dns = Peer(
        "a DNS server in another namespace", ELSEWHERE, namespace_peer_labels(ELSEWHERE), DNS_POD_LABELS
    )
    for pod in app_pods(manifests).values():
        subject = f"pods of {pod.namespace}/{pod.name}"
        for protocol in ("UDP", "TCP"):
            if not connection(manifests, pod, cluster_dns, DNS_PORT, protocol).allowed:
                yield Finding(subject, f"cannot reach kube-dns on {DNS_PORT}/{protocol}")
        if connection(manifests, pod, foreign_dns, DNS_PORT, "UDP").allowed:
            yield Finding(subject, f"may send DNS ({DNS_PORT}/UDP) to pods outside {DNS_NAMESPACE}")
