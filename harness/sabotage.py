"""Deployments broken on purpose, to prove each scenario can fail.

Each sabotage changes the rendered manifests before they are applied, and names the criterion
whose scenario must then report `fail`. `tests/sabotage/` deploys each one for real and checks
that the scenario noticed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.errors import UserError

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Sabotage:
    name: str
    breaks: str
    scenario: str
    description: str
    apply: Callable[[list[Manifest]], None]


def _objects(manifests: list[Manifest], kind: str, name: str) -> Iterator[Manifest]:
    found = [item for item in manifests if item["kind"] == kind and item["metadata"]["name"] == name]
    if not found:
        raise UserError(f"sabotage target {kind}/{name} is not in the rendered manifests")
    yield from found


def _containers(workload: Manifest) -> list[Manifest]:
    containers: list[Manifest] = workload["spec"]["template"]["spec"]["containers"]
    return containers


def wrong_mcp_url(manifests: list[Manifest]) -> None:
    for config_map in _objects(manifests, "ConfigMap", "taskflow-config"):
        config_map["data"]["MCP_SERVER_URL"] = "http://mcp-server-misspelt:8080/mcp"


def backend_without_limits(manifests: list[Manifest]) -> None:
    for deployment in _objects(manifests, "Deployment", "backend"):
        for container in _containers(deployment):
            container.get("resources", {}).pop("limits", None)


def backend_unbounded_scratch(manifests: list[Manifest]) -> None:
    for deployment in _objects(manifests, "Deployment", "backend"):
        for container in _containers(deployment):
            for bounds in container.get("resources", {}).values():
                bounds.pop("ephemeral-storage", None)


def frontend_without_readiness(manifests: list[Manifest]) -> None:
    for deployment in _objects(manifests, "Deployment", "frontend"):
        for container in _containers(deployment):
            container.pop("readinessProbe", None)


def database_on_emptydir(manifests: list[Manifest]) -> None:
    for statefulset in _objects(manifests, "StatefulSet", "postgres"):
        templates = statefulset["spec"].pop("volumeClaimTemplates", [])
        volumes = statefulset["spec"]["template"]["spec"].setdefault("volumes", [])
        volumes.extend({"name": template["metadata"]["name"], "emptyDir": {}} for template in templates)


def ingress_without_tls(manifests: list[Manifest]) -> None:
    for ingress in (item for item in manifests if item["kind"] == "Ingress"):
        ingress["spec"].pop("tls", None)


SABOTAGES = {
    sabotage.name: sabotage
    for sabotage in (
        Sabotage(
            "wrong-mcp-url",
            "FR-004",
            "test_configuration.py",
            "taskflow-config points the backend at a service that does not exist",
            wrong_mcp_url,
        ),
        Sabotage(
            "backend-without-limits",
            "FR-007",
            "test_health_and_resources.py",
            "backend container has requests but no limits",
            backend_without_limits,
        ),
        Sabotage(
            "backend-unbounded-scratch",
            "FR-007",
            "test_manifests.py",
            "backend container has no ephemeral-storage request or limit (only kube-score checks it)",
            backend_unbounded_scratch,
        ),
        Sabotage(
            "frontend-without-readiness",
            "FR-006",
            "test_health_and_resources.py",
            "frontend container has no readiness probe",
            frontend_without_readiness,
        ),
        Sabotage(
            "database-on-emptydir",
            "FR-008",
            "test_persistence.py",
            "postgres keeps its data in an emptyDir instead of a PVC",
            database_on_emptydir,
        ),
        Sabotage(
            "ingress-without-tls",
            "FR-003",
            "test_ingress.py",
            "the Ingress serves no TLS certificate",
            ingress_without_tls,
        ),
    )
}


def sabotage_named(name: str) -> Sabotage:
    if name not in SABOTAGES:
        raise UserError(
            f"unknown sabotage {name!r}", where="--sabotage", fix=f"use one of: {', '.join(SABOTAGES)}"
        )
    return SABOTAGES[name]
