"""The requirements of the deployment spec (SPEC.md) that the report has one row for each:
FR-001..010, SC-001..005 and the spec's three edge cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


# The checks of a row's core measurement, by check-name fragment: the row passes only when one of
# them passed live. Without (too few samples, not selected) the row is skipped with their reason
# instead of passing on its other checks (SC-001 on its rollout time alone in a short run).
ESSENTIAL_CHECKS: dict[str, str] = {"SC-001": "answers 2xx within 2 s"}


@dataclass(frozen=True)
class HeadlineFigure:
    """One figure of a row's headline on the report's front page: the live checks whose name
    contains `check`; of several, the one `pick` names (`highest`/`lowest` value, else the first
    recorded); shown as `label value unit`, or `label: detail` with `show="detail"`, and with the
    check's sample count where `samples` says its samples are the measurements themselves."""

    check: str
    label: str
    pick: Literal["first", "highest", "lowest"] = "first"
    show: Literal["value", "detail"] = "value"
    samples: bool = False


# The figures a platform engineer looks for first, per row (a passing row; a failing row shows what
# failed it). A row left out, or whose checks did not run, shows its worst latency or first measurement.
HEADLINES: dict[str, tuple[HeadlineFigure, ...]] = {
    "FR-001": (HeadlineFigure("in separate ready pods", "separate pods", show="detail"),),
    "FR-002": (
        HeadlineFigure("answers by service name", "failed calls by service name", "highest"),
        HeadlineFigure("backend calls MCP tools", "chat round trip through MCP"),
    ),
    "FR-003": (HeadlineFigure("serves the frontend", "GET / through the ingress over TLS →"),),
    "FR-005": (
        HeadlineFigure("new backend pods become ready and take traffic", "new backend pods taking traffic"),
        HeadlineFigure("scales back to", "back to minReplicas after the load"),
    ),
    "FR-006": (
        HeadlineFigure(
            "liveness-restarts-hung-container: container", "liveness restarts a hung container in"
        ),
        HeadlineFigure("cut pod out of Service", "readiness removes an unready pod in"),
    ),
    "FR-007": (HeadlineFigure("OOM-killed at its limit", "memory hog OOM-killed at its limit in"),),
    "FR-008": (
        HeadlineFigure(
            "API healthy again after the fault", "API answering again after postgres killed in", "highest"
        ),
    ),
    "FR-009": (HeadlineFigure("resolves", "DNS lookup", "highest"),),
    "FR-010": (HeadlineFigure(" reads ", "missing ConfigMap/Secret sources", "highest"),),
    "SC-001": (HeadlineFigure("answers 2xx within 2 s", "uptime", "lowest"),),
    "SC-002": (
        HeadlineFigure("p99 latency by service name", "p99 by service name", "highest", samples=True),
    ),
    "SC-004": (
        HeadlineFigure("all 100 users active", "users active through the hold"),
        HeadlineFigure("p95 response time of task endpoints", "p95 of task endpoints"),
        HeadlineFigure("failed requests in the hold", "failed requests"),
    ),
    "SC-005": (
        HeadlineFigure(
            "rolling-update-under-writes: every acknowledged write",
            "tasks with every acknowledged write kept",
        ),
        HeadlineFigure(
            "rolling-update-under-writes: requests failed", "failed requests in the rolling update"
        ),
    ),
    "EDGE-CRASH": (
        HeadlineFigure(
            "API healthy again after the fault", "API answering again after the crash in", "highest"
        ),
    ),
    "EDGE-CONTENTION": (
        HeadlineFigure(
            "p95 latency through the ingress during the fault", "p95 beside the hogs", samples=True
        ),
        HeadlineFigure("requests failed through the ingress during the fault", "failed requests"),
    ),
    "EDGE-MCP": (
        HeadlineFigure("chat answers 503 with Retry-After", "chat while MCP is down"),
        HeadlineFigure("works during the fault", "task calls while MCP is down", "highest"),
    ),
}


def check_criterion(criterion: str) -> str:
    """Return the id unchanged, or raise ValueError naming the known ids."""
    if criterion not in CRITERIA:
        known = ", ".join(CRITERIA)
        raise ValueError(f"unknown criterion {criterion!r}; known: {known}")
    return criterion
