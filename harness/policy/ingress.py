"""External access: one Ingress for taskflow.local, TLS from taskflow-tls, routed by path."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.contracts import INGRESS_HOST, INGRESS_ROUTES, TLS_SECRET
from harness.policy.model import Finding, rule
from harness.policy.objects import Manifest, Manifests, dig, mapping, ref, sequence

# ingressClassName -> the controller that serves it; see network.py for where each one runs.
KNOWN_INGRESS_CLASSES = ("nginx", "traefik")


def taskflow_ingresses(manifests: Manifests) -> list[Manifest]:
    return [
        ingress
        for ingress in manifests.of_kind("Ingress")
        if any(mapping(r).get("host") == INGRESS_HOST for r in sequence(dig(ingress, "spec", "rules")))
    ]


@rule(
    "ING-ROUTES",
    "FR-003",
    f"Ingress host {INGRESS_HOST}: /api (Prefix) -> backend:8000, / (Prefix) -> frontend:3000",
    f"add the rule for host {INGRESS_HOST} with those two Prefix paths",
)
def routes(manifests: Manifests) -> Iterator[Finding]:
    ingresses = taskflow_ingresses(manifests)
    if not ingresses:
        yield Finding("Ingress", f"no Ingress has a rule for host {INGRESS_HOST}")
        return
    for ingress in ingresses:
        found: dict[str, tuple[object, object, object]] = {}
        for host_rule in sequence(dig(ingress, "spec", "rules")):
            if mapping(host_rule).get("host") != INGRESS_HOST:
                continue
            for path in sequence(dig(host_rule, "http", "paths")):
                service = mapping(dig(path, "backend", "service"))
                found[str(mapping(path).get("path"))] = (
                    mapping(path).get("pathType"),
                    service.get("name"),
                    dig(service, "port", "number"),
                )
        for path, (service_name, port) in INGRESS_ROUTES.items():
            if found.get(path) != ("Prefix", service_name, port):
                yield Finding(
                    ref(ingress),
                    f"path {path} is {found.get(path, 'missing')}, not Prefix -> {service_name}:{port}",
                )


@rule(
    "ING-TLS",
    "FR-003",
    f"the Ingress serves {INGRESS_HOST} over TLS from Secret {TLS_SECRET} (kubernetes.io/tls, rendered)",
    f"add spec.tls [{{hosts: [{INGRESS_HOST}], secretName: {TLS_SECRET}}}] and generate the secret inputs",
)
def tls(manifests: Manifests) -> Iterator[Finding]:
    for ingress in taskflow_ingresses(manifests):
        entries = [mapping(entry) for entry in sequence(dig(ingress, "spec", "tls"))]
        if not any(
            INGRESS_HOST in sequence(e.get("hosts")) and e.get("secretName") == TLS_SECRET for e in entries
        ):
            yield Finding(ref(ingress), f"does not serve {INGRESS_HOST} over TLS from Secret {TLS_SECRET}")
    secret = manifests.get("Secret", TLS_SECRET)
    if secret is None:
        yield Finding(f"Secret/{TLS_SECRET}", "is missing")
    elif secret.get("type") != "kubernetes.io/tls" or not {"tls.crt", "tls.key"} <= set(
        mapping(secret.get("data"))
    ):
        yield Finding(ref(secret), "is not a kubernetes.io/tls Secret with tls.crt and tls.key")


@rule(
    "ING-CLASS",
    "FR-003",
    f"the Ingress names its controller: ingressClassName one of {', '.join(KNOWN_INGRESS_CLASSES)}",
    "set spec.ingressClassName for the cluster's controller (overlays set it per cluster)",
)
def ingress_class(manifests: Manifests) -> Iterator[Finding]:
    for ingress in taskflow_ingresses(manifests):
        name = dig(ingress, "spec", "ingressClassName")
        if name not in KNOWN_INGRESS_CLASSES:
            yield Finding(ref(ingress), f"ingressClassName is {name or '<unset>'}")
