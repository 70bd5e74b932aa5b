"""The requirements of the deployment spec (SPEC.md) that the report has one row for each:
FR-001..010, SC-001..005 and the spec's three edge cases."""

from __future__ import annotations

CRITERIA: dict[str, str] = {
    "FR-001": "Frontend, backend and MCP server run as separate pods",
    "FR-002": "Inter-service communication by Kubernetes service names",
    "FR-003": "External access to the frontend through an Ingress (TLS)",
    "FR-004": "Environment variables configure service communication",
    "FR-005": "Pods scale with load",
    "FR-006": "Health checks on every service",
    "FR-007": "Resource requests and limits on every container",
    "FR-008": "Persistent storage survives pod restarts",
    "FR-009": "Service discovery for internal communication",
    "FR-010": "Configuration through ConfigMaps and Secrets",
    "SC-001": "All three services deployed and running, 99% uptime during testing",
    "SC-002": "Service-name calls succeed with response times under 500 ms",
    "SC-003": "Users can use the application in a browser without errors",
    "SC-004": "At least 100 concurrent users with acceptable response times",
    "SC-005": "Pod restarts and updates lose no data",
    "EDGE-CRASH": "A pod that crashes is restarted or recreated and serves again",
    "EDGE-CONTENTION": "Pods competing for resources stay within their limits and budgets",
    "EDGE-MCP": "Task endpoints keep working and chat degrades cleanly while the MCP server is down",
}


def check_criterion(criterion: str) -> str:
    """Return the id unchanged, or raise ValueError naming the known ids."""
    if criterion not in CRITERIA:
        known = ", ".join(CRITERIA)
        raise ValueError(f"unknown criterion {criterion!r}; known: {known}")
    return criterion
