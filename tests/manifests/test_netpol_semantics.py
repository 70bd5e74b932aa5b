"""The static NetworkPolicy evaluator follows networking.k8s.io/v1 semantics."""

from __future__ import annotations

from typing import Any

from harness.policy.netpol import Peer, connection, namespace_peer_labels
from harness.policy.objects import Manifests

NS = "shop"
WEB = Peer("web", NS, namespace_peer_labels(NS), {"app": "web"}, named_ports={"http": 8080})
DB = Peer("db", NS, namespace_peer_labels(NS), {"app": "db"}, named_ports={"pg": 5432})
OTHER_NS = Peer("tool", "ops", namespace_peer_labels("ops"), {"app": "web"})
HOST = Peer("node", ip="10.0.0.5")


def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


def test_unselected_pods_are_open_and_selected_pods_closed() -> None:
    assert connection(Manifests([]), WEB, DB, 5432).allowed
    deny = Manifests([policy("deny", {"podSelector": {}, "policyTypes": ["Ingress"]})])
    verdict = connection(deny, WEB, DB, 5432)
    assert not verdict.allowed and verdict.ingress_policies == ("NetworkPolicy/shop/deny",)


def test_both_ends_must_admit() -> None:
    ingress_only = policy(
        "db-in",
        {
            "podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
        },
    )
    web_egress_closed = policy(
        "web-out", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]}
    )
    assert connection(Manifests([ingress_only]), WEB, DB, 5432).allowed
    assert not connection(Manifests([ingress_only, web_egress_closed]), WEB, DB, 5432).allowed


def test_pod_selector_alone_means_same_namespace_only() -> None:
    rule = policy(
        "db-in",
        {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]},
    )
    assert connection(Manifests([rule]), WEB, DB, 5432).allowed
    assert not connection(Manifests([rule]), OTHER_NS, DB, 5432).allowed


def test_namespace_selector_alone_means_every_pod_there() -> None:
    rule = policy(
        "db-in",
        {
            "podSelector": {},
            "ingress": [
                {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ops"}}}]}
            ],
        },
    )
    assert connection(Manifests([rule]), OTHER_NS, DB, 5432).allowed
    assert not connection(Manifests([rule]), WEB, DB, 5432).allowed


def test_named_ports_resolve_on_the_receiver_and_protocol_matters() -> None:
    rule = policy("db-in", {"podSelector": {}, "ingress": [{"ports": [{"port": "pg"}]}]})
    assert connection(Manifests([rule]), WEB, DB, 5432).allowed
    assert not connection(Manifests([rule]), WEB, DB, 5433).allowed
    assert not connection(Manifests([rule]), WEB, DB, 5432, "UDP").allowed


def test_ip_blocks_match_host_addresses_with_exceptions_not_pods() -> None:
    block = {"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.0.0.5/32"]}}
    rule = policy("db-in", {"podSelector": {}, "ingress": [{"from": [block]}]})
    assert not connection(Manifests([rule]), HOST, DB, 5432).allowed
    assert connection(Manifests([rule]), Peer("other host", ip="10.0.0.6"), DB, 5432).allowed
    assert not connection(Manifests([rule]), WEB, DB, 5432).allowed


def test_match_expressions() -> None:
    rule = policy(
        "in",
        {
            "podSelector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]},
            "policyTypes": ["Ingress"],
        },
    )
    assert connection(Manifests([rule]), WEB, DB, 5432).allowed
    assert not connection(Manifests([rule]), DB, WEB, 8080).allowed
