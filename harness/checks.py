"""Checks over live objects (as API dicts), pure so that tests can feed them broken objects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

APP_LABEL = "app.kubernetes.io/name"
SERVICES = ("frontend", "backend", "mcp-server")


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod.get("spec", {})
    return list(spec.get("initContainers", [])) + list(spec.get("containers", []))


def pod_label(pod: dict[str, Any]) -> str:
    return str(pod.get("metadata", {}).get("labels", {}).get(APP_LABEL, "?"))


def ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", []) or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def separate_pods_problems(pods: Iterable[dict[str, Any]]) -> list[str]:
    """FR-001: each service has ready pods of its own, and no pod serves two services."""
    pods = list(pods)
    problems = []
    for service in SERVICES:
        own = [pod for pod in pods if pod_label(pod) == service]
        if not own:
            problems.append(f"no pod labelled {APP_LABEL}={service}")
        elif not any(ready(pod) for pod in own):
            problems.append(f"no ready pod for {service}")
    for pod in pods:
        images = {container.get("image", "") for container in pod.get("spec", {}).get("containers", [])}
        served = [service for service in SERVICES if any(f"/{service}:" in image for image in images)]
        if len(served) > 1:
            problems.append(f"pod {pod['metadata']['name']} runs {' and '.join(served)} together")
    return problems


def ready_pods_per_service(pods: Iterable[dict[str, Any]]) -> str:
    """FR-001's figure: how many ready pods each service has, e.g. `frontend 2, backend 2, mcp-server 2`."""
    pods = list(pods)
    counts = (sum(1 for pod in pods if pod_label(pod) == service and ready(pod)) for service in SERVICES)
    return ", ".join(f"{service} {count}" for service, count in zip(SERVICES, counts, strict=True))


def resource_problems(pods: Iterable[dict[str, Any]]) -> list[str]:
    """FR-007: every container (init ones too) has cpu+memory requests and limits."""
    problems = []
    for pod in pods:
        for container in containers(pod):
            resources = container.get("resources", {}) or {}
            for kind in ("requests", "limits"):
                missing = [name for name in ("cpu", "memory") if name not in (resources.get(kind) or {})]
                if missing:
                    problems.append(
                        f"{pod['metadata']['name']}/{container['name']}: no {kind} for {', '.join(missing)}"
                    )
    return problems


def probe_problems(pods: Iterable[dict[str, Any]]) -> list[str]:
    """FR-006: every long-running container has a liveness and a readiness probe."""
    problems = []
    for pod in pods:
        if pod_label(pod) == "conformance-probe":
            continue
        for container in pod.get("spec", {}).get("containers", []):
            for probe in ("livenessProbe", "readinessProbe"):
                if not container.get(probe):
                    problems.append(f"{pod['metadata']['name']}/{container['name']}: no {probe}")
    return problems


def env_sources(pod: dict[str, Any]) -> dict[str, set[str]]:
    """FR-004/FR-010: which ConfigMaps and Secrets each container takes its environment from."""
    sources: dict[str, set[str]] = {}
    for container in containers(pod):
        names: set[str] = set()
        for source in container.get("envFrom", []) or []:
            if "configMapRef" in source:
                names.add(f"ConfigMap/{source['configMapRef']['name']}")
            if "secretRef" in source:
                names.add(f"Secret/{source['secretRef']['name']}")
        for variable in container.get("env", []) or []:
            reference = variable.get("valueFrom", {}) or {}
            if "configMapKeyRef" in reference:
                names.add(f"ConfigMap/{reference['configMapKeyRef']['name']}")
            if "secretKeyRef" in reference:
                names.add(f"Secret/{reference['secretKeyRef']['name']}")
        sources[container["name"]] = names
    return sources


def plain_secret_problems(pods: Iterable[dict[str, Any]], secret_keys: Iterable[str]) -> list[str]:
    """FR-010: secret keys never appear as literal env values in a pod spec."""
    secret_keys = set(secret_keys)
    return [
        f"{pod['metadata']['name']}/{container['name']}: {variable['name']} is a literal value,"
        " not a secretKeyRef"
        for pod in pods
        for container in containers(pod)
        for variable in container.get("env", []) or []
        if variable.get("name") in secret_keys and "value" in variable
    ]
