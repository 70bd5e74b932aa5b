"""Checks over live objects (as API dicts), pure so that tests can feed them broken objects."""

from __future__ import annotations

import re
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


# The LimitRanger admission plugin fills in a namespace LimitRange's defaults and says so on the pod,
# e.g. "LimitRanger plugin set: cpu, memory limit for container backend; ephemeral-storage request
# for init container migrate". Those values are the namespace's, not the service's own.
LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger"
_LIMIT_RANGER_ITEM = re.compile(
    r"^(?P<resources>.+?) (?P<kind>request|limit) for (?:init )?container (?P<name>\S+)$"
)


def defaulted_by_limit_range(pod: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(container, "requests"|"limits") -> resources a LimitRange filled in; an item this does not
    understand counts as cpu and memory defaulted for every container (never a silent pass)."""
    text = str(pod.get("metadata", {}).get("annotations", {}).get(LIMIT_RANGER_ANNOTATION, ""))
    found: dict[tuple[str, str], set[str]] = {}
    if not text:
        return found
    for item in text.removeprefix("LimitRanger plugin set:").split(";"):
        match = _LIMIT_RANGER_ITEM.match(item.strip())
        if match is None:
            for container in containers(pod):
                for kind in ("requests", "limits"):
                    found.setdefault((container.get("name", "?"), kind), set()).update({"cpu", "memory"})
            continue
        key = (match["name"], f"{match['kind']}s")
        found.setdefault(key, set()).update(r.strip() for r in match["resources"].split(","))
    return found


def resource_problems(pods: Iterable[dict[str, Any]]) -> list[str]:
    """FR-007: every container (init ones too) has cpu+memory requests and limits of its own — set
    by its workload, not filled in from the namespace's LimitRange defaults."""
    problems = []
    for pod in pods:
        defaulted = defaulted_by_limit_range(pod)
        for container in containers(pod):
            resources = container.get("resources", {}) or {}
            for kind in ("requests", "limits"):
                missing = [name for name in ("cpu", "memory") if name not in (resources.get(kind) or {})]
                from_namespace = [
                    name
                    for name in ("cpu", "memory")
                    if name not in missing and name in defaulted.get((container["name"], kind), set())
                ]
                if missing:
                    problems.append(
                        f"{pod['metadata']['name']}/{container['name']}: no {kind} for {', '.join(missing)}"
                    )
                if from_namespace:
                    problems.append(
                        f"{pod['metadata']['name']}/{container['name']}: {kind} for "
                        f"{', '.join(from_namespace)} only from the namespace's LimitRange defaults"
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
