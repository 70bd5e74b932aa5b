"""NetworkPolicy semantics, evaluated statically: may this peer open a connection to that one?

Follows the networking.k8s.io/v1 rules: a pod selected by no policy of a direction is open in
that direction; otherwise a connection must match some rule of some selecting policy, on both
the sender's egress and the receiver's ingress. Peers outside the rendered namespace have no
policies here, so their side is open.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.policy.objects import Manifest, Manifests, dig, labels_match, mapping, namespace_of, sequence

INGRESS = "Ingress"
EGRESS = "Egress"


@dataclass(frozen=True)
class Peer:
    """A party to a connection: a pod (namespace + labels) or a host address (ip only)."""

    name: str
    namespace: str | None = None
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    ip: str | None = None
    named_ports: Mapping[str, int] = field(default_factory=dict)


def namespace_peer_labels(namespace: str, declared: Mapping[str, str] | None = None) -> dict[str, str]:
    # The API server sets this label on every namespace (1.22+); selectors rely on it.
    return {**(declared or {}), "kubernetes.io/metadata.name": namespace}


def policy_types(policy: Manifest) -> list[str]:
    spec = mapping(policy.get("spec"))
    declared = sequence(spec.get("policyTypes"))
    if declared:
        return [str(t) for t in declared]
    return [INGRESS, EGRESS] if spec.get("egress") else [INGRESS]


def selects(policy: Manifest, pod: Peer) -> bool:
    return (
        pod.namespace is not None
        and namespace_of(policy) == pod.namespace
        and labels_match(dig(policy, "spec", "podSelector"), pod.pod_labels)
    )


def _peer_matches(rule_peer: Any, peer: Peer, policy_namespace: str | None) -> bool:
    rule_peer = mapping(rule_peer)
    block = mapping(rule_peer.get("ipBlock"))
    if block:
        if peer.ip is None:
            return False
        address = ipaddress.ip_address(peer.ip)
        if address not in ipaddress.ip_network(str(block.get("cidr")), strict=False):
            return False
        return not any(
            address in ipaddress.ip_network(str(e), strict=False) for e in sequence(block.get("except"))
        )
    if peer.namespace is None:
        return False
    if "namespaceSelector" in rule_peer:
        in_namespace = labels_match(rule_peer["namespaceSelector"], peer.namespace_labels)
    else:
        in_namespace = peer.namespace == policy_namespace
    if not in_namespace:
        return False
    return "podSelector" not in rule_peer or labels_match(rule_peer["podSelector"], peer.pod_labels)


def _port_matches(rule_ports: Any, port: int, protocol: str, receiver: Peer) -> bool:
    ports = sequence(rule_ports)
    if not ports:
        return True
    for entry in map(mapping, ports):
        if entry.get("protocol", "TCP") != protocol:
            continue
        value = entry.get("port")
        if value is None:
            return True
        start = receiver.named_ports.get(value) if isinstance(value, str) else value
        end = entry.get("endPort", start)
        if isinstance(start, int) and isinstance(end, int) and start <= port <= end:
            return True
    return False


def _admitting_policies(
    policies: list[Manifest], direction: str, sender: Peer, receiver: Peer, *, port: int, protocol: str
) -> list[Manifest] | None:
    """Policies of `direction` on its end of the connection that admit it; None when none selects that end."""
    subject, other = (sender, receiver) if direction == EGRESS else (receiver, sender)
    selecting = [p for p in policies if direction in policy_types(p) and selects(p, subject)]
    if not selecting:
        return None
    rules_key, peers_key = ("ingress", "from") if direction == INGRESS else ("egress", "to")
    admitting = []
    for policy in selecting:
        for policy_rule in sequence(dig(policy, "spec", rules_key)):
            peers = sequence(mapping(policy_rule).get(peers_key))
            if (
                not peers or any(_peer_matches(p, other, namespace_of(policy)) for p in peers)
            ) and _port_matches(mapping(policy_rule).get("ports"), port, protocol, receiver):
                admitting.append(policy)
                break
    return admitting


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # Which policies decide it: the admitting ones when allowed, the selecting ones when blocked.
    egress_policies: tuple[str, ...]
    ingress_policies: tuple[str, ...]


def connection(
    manifests: Manifests, sender: Peer, receiver: Peer, port: int, protocol: str = "TCP"
) -> Verdict:
    policies = manifests.of_kind("NetworkPolicy")
    egress = _admitting_policies(policies, EGRESS, sender, receiver, port=port, protocol=protocol)
    ingress = _admitting_policies(policies, INGRESS, sender, receiver, port=port, protocol=protocol)
    egress_ok = egress is None or bool(egress)
    ingress_ok = ingress is None or bool(ingress)

    def names(direction: str, pod: Peer, admitting: list[Manifest] | None) -> tuple[str, ...]:
        chosen = admitting or [p for p in policies if direction in policy_types(p) and selects(p, pod)]
        return tuple(sorted(f"NetworkPolicy/{namespace_of(p)}/{dig(p, 'metadata', 'name')}" for p in chosen))

    return Verdict(
        egress_ok and ingress_ok,
        names(EGRESS, sender, egress),
        names(INGRESS, receiver, ingress),
    )


def app_pods(manifests: Manifests) -> dict[str, Peer]:
    """One peer per workload in the manifests, keyed by workload name."""
    declared_namespaces = {
        dig(ns, "metadata", "name"): mapping(dig(ns, "metadata", "labels"))
        for ns in manifests.of_kind("Namespace")
    }
    pods = {}
    for workload in manifests.workloads():
        namespace = namespace_of(workload) or "default"
        template = mapping(dig(workload, "spec", "template"))
        named_ports = {
            str(port["name"]): port["containerPort"]
            for container in sequence(dig(template, "spec", "containers"))
            for port in map(mapping, sequence(mapping(container).get("ports")))
            if port.get("name") and isinstance(port.get("containerPort"), int)
        }
        name = str(dig(workload, "metadata", "name"))
        pods[name] = Peer(
            name=name,
            namespace=namespace,
            namespace_labels=namespace_peer_labels(namespace, declared_namespaces.get(namespace)),
            pod_labels=mapping(dig(template, "metadata", "labels")),
            named_ports=named_ports,
        )
    return pods


def container_ports(manifests: Manifests, workload_name: str) -> list[tuple[int, str]]:
    for workload in manifests.workloads():
        if dig(workload, "metadata", "name") == workload_name:
            return [
                (port["containerPort"], str(port.get("protocol", "TCP")))
                for container in sequence(dig(workload, "spec", "template", "spec", "containers"))
                for port in map(mapping, sequence(mapping(container).get("ports")))
                if isinstance(port.get("containerPort"), int)
            ]
    return []
