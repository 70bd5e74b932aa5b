"""Live objects of the namespace under test, as plain API dicts (what harness.checks reads)."""

from __future__ import annotations

from typing import Any

from harness.deployment import Deployment
from harness.kube import Kube


def pods(deployment: Deployment) -> list[dict[str, Any]]:
    listed = deployment.kube.core.list_namespaced_pod(deployment.namespace)
    return [deployment.kube.api_client.sanitize_for_serialization(pod) for pod in listed.items]


def ready_endpoint_count(deployment: Deployment, service: str, kube: Kube | None = None) -> int:
    found = (kube or deployment.kube).discovery.list_namespaced_endpoint_slice(
        deployment.namespace, label_selector=f"kubernetes.io/service-name={service}"
    )
    return sum(
        1
        for endpoint_slice in found.items
        for endpoint in endpoint_slice.endpoints or []
        if endpoint.conditions is not None and endpoint.conditions.ready
    )
