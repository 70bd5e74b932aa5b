"""Health checks: liveness and readiness on every app container, on the contract endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.policy.contracts import APPS, POSTGRES_PROBE_COMMAND
from harness.policy.model import Finding, rule
from harness.policy.objects import Container, Manifests, dig, mapping, sequence

PROBES = ("livenessProbe", "readinessProbe")


@rule(
    "PROBE-LIVENESS-READINESS",
    "FR-006",
    "every (non-init) container has a liveness and a readiness probe",
    "add livenessProbe and readinessProbe",
)
def liveness_and_readiness(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers(include_init=False):
        missing = [probe for probe in PROBES if not mapping(container.spec.get(probe))]
        if missing:
            yield Finding(container.subject, f"has no {' or '.join(missing)}")


def _resolve_port(container: Container, port: Any) -> Any:
    for declared in sequence(container.spec.get("ports")):
        if isinstance(port, str) and mapping(declared).get("name") == port:
            return mapping(declared).get("containerPort")
    return port


def _probe_problem(container: Container, probe: dict[str, Any], path: str | None, port: int) -> str | None:
    if path is None:
        command = sequence(dig(probe, "exec", "command"))
        # Liveness may wrap pg_isready in `sh -c` to accept its "alive but rejecting" exit code.
        if not command or POSTGRES_PROBE_COMMAND not in " ".join(str(part) for part in command):
            return f"is not an exec {POSTGRES_PROBE_COMMAND} probe"
        return None
    http = mapping(probe.get("httpGet"))
    if http.get("path") != path:
        return f"checks path {http.get('path') or '<no httpGet>'}, not {path}"
    if _resolve_port(container, http.get("port")) != port:
        return f"checks port {http.get('port')}, not {port}"
    return None


@rule(
    "PROBE-CONTRACT-ENDPOINTS",
    "FR-006",
    "probes hit the contract endpoints: backend liveness /healthz and readiness /readyz (DB only), "
    "frontend /api/health, mcp-server liveness /health and readiness /ready (DB), postgres exec pg_isready",
    "point the probe at the endpoint and port in docs/contracts.md",
)
def contract_endpoints(manifests: Manifests) -> Iterator[Finding]:
    for app in APPS:
        container = manifests.app_container(app.kind, app.name)
        if container is None:
            continue
        expected = {
            "livenessProbe": app.liveness_path,
            "readinessProbe": app.readiness_path,
            # A startup probe gates liveness, so it checks the liveness endpoint.
            "startupProbe": app.liveness_path,
        }
        for probe_name, path in expected.items():
            probe = mapping(container.spec.get(probe_name))
            if not probe:
                continue
            problem = _probe_problem(container, probe, path, app.port)
            if problem:
                yield Finding(container.subject, f"{probe_name} {problem}")


@rule(
    "PROBE-STARTUP-WHERE-SLOW",
    "FR-006",
    "slow starters (frontend, backend, postgres) have a startupProbe: liveness cannot kill a cold start",
    "add a startupProbe on the liveness endpoint with a generous failureThreshold",
)
def startup_where_slow(manifests: Manifests) -> Iterator[Finding]:
    for app in APPS:
        container = manifests.app_container(app.kind, app.name)
        if app.slow_start and container is not None and not mapping(container.spec.get("startupProbe")):
            yield Finding(container.subject, "starts slowly but has no startupProbe")
