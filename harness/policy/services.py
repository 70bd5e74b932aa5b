"""Services: the contract names and ports, selecting the right pods, and postgres' headless service."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.contracts import APPS, APPS_BY_NAME
from harness.policy.model import Finding, rule
from harness.policy.objects import (
    Manifests,
    dig,
    mapping,
    name_of,
    namespace_of,
    pod_spec,
    ref,
    sequence,
)


@rule(
    "SVC-CONTRACT-PORTS",
    "FR-002",
    "ClusterIP Services frontend:3000, backend:8000, mcp-server:8080, postgres:5432 (TCP)",
    "declare the Service with exactly that name, type ClusterIP and port",
)
def contract_ports(manifests: Manifests) -> Iterator[Finding]:
    for app in APPS:
        service = manifests.get("Service", app.name)
        if service is None:
            yield Finding(f"Service/{app.name}", "is missing")
            continue
        spec = mapping(service.get("spec"))
        if spec.get("type", "ClusterIP") != "ClusterIP" or spec.get("clusterIP") == "None":
            yield Finding(ref(service), "is not a plain ClusterIP Service")
        ports = {
            (mapping(p).get("port"), mapping(p).get("protocol", "TCP")) for p in sequence(spec.get("ports"))
        }
        if (app.port, "TCP") not in ports:
            yield Finding(ref(service), f"does not expose port {app.port}/TCP")


@rule(
    "SVC-SELECTS-PODS",
    "FR-009",
    "every Service selects exactly one workload's pods and its targetPorts exist on their containers",
    "make the selector match the app's pod labels and targetPort a containerPort (name or number)",
)
def selects_pods(manifests: Manifests) -> Iterator[Finding]:
    for service in manifests.of_kind("Service"):
        selector = dig(service, "spec", "selector")
        if not mapping(selector):
            yield Finding(ref(service), "has no selector, so no endpoints")
            continue
        selected = manifests.workloads_selected_by({"matchLabels": selector}, namespace_of(service))
        if len(selected) != 1:
            names = ", ".join(ref(w) for w in selected) or "no workload"
            yield Finding(ref(service), f"selects {names}, not exactly one")
            continue
        app = APPS_BY_NAME.get(name_of(service))
        if app is not None and name_of(selected[0]) != app.name:
            yield Finding(ref(service), f"selects {ref(selected[0])} instead of {app.kind}/{app.name}")
        container_ports = {
            value
            for container in sequence(pod_spec(selected[0]).get("containers"))
            for port in sequence(mapping(container).get("ports"))
            for value in (mapping(port).get("name"), mapping(port).get("containerPort"))
            if value is not None
        }
        for port in sequence(dig(service, "spec", "ports")):
            target = mapping(port).get("targetPort", mapping(port).get("port"))
            if target not in container_ports:
                yield Finding(ref(service), f"targetPort {target} is not a port of {ref(selected[0])}")


@rule(
    "SVC-POSTGRES-HEADLESS",
    "FR-009",
    "StatefulSet postgres is governed by a headless Service (clusterIP: None) that selects its pods",
    "set spec.serviceName to a Service with clusterIP: None selecting app.kubernetes.io/name=postgres",
)
def postgres_headless(manifests: Manifests) -> Iterator[Finding]:
    postgres = manifests.get("StatefulSet", "postgres")
    if postgres is None:
        return
    service_name = dig(postgres, "spec", "serviceName")
    service = manifests.get("Service", str(service_name)) if service_name else None
    if service is None:
        yield Finding(
            ref(postgres), f"serviceName {service_name or '<unset>'} names no Service in the manifests"
        )
    elif dig(service, "spec", "clusterIP") != "None":
        yield Finding(ref(service), "governs StatefulSet postgres but is not headless")
