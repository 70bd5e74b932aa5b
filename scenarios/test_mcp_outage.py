"""Edge case: the MCP server is down. Tasks keep working, chat fails fast, and recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness import checks, live
from harness.deploy import Deployment
from harness.kube import wait_until
from harness.probe import Probe
from harness.recorder import EvidenceRecorder
from harness.taskflow_api import ApiUser, chat, create_task
from harness.uptime import UptimeMonitor
from harness.workloads import deployment_not_ready

CHAT_DOWN_BUDGET_SECONDS = 1.5
RECOVERY_BUDGET_SECONDS = 120


def scale(deployment: Deployment, name: str, replicas: int) -> None:
    deployment.kube.apps.patch_namespaced_deployment_scale(
        name, deployment.namespace, {"spec": {"replicas": replicas}}
    )


def mcp_pods_left(deployment: Deployment) -> str | None:
    pods = [pod for pod in live.pods(deployment) if checks.pod_label(pod) == "mcp-server"]
    return f"{len(pods)} mcp-server pods still exist" if pods else None


@contextmanager
def mcp_server_stopped(deployment: Deployment, uptime: UptimeMonitor) -> Iterator[None]:
    """Scale mcp-server to 0 until the block ends, then back, waiting until it is available again."""
    namespace = deployment.namespace
    replicas = deployment.kube.apps.read_namespaced_deployment("mcp-server", namespace).spec.replicas or 1
    with uptime.disruption("mcp-server scaled to 0 on purpose (MCP outage edge case)"):
        scale(deployment, "mcp-server", 0)
        try:
            # Gone, not just unready: with no ready endpoint left, kube-proxy still sends traffic
            # to endpoints that are terminating but serving.
            wait_until("mcp-server pods to be gone", lambda: mcp_pods_left(deployment), timeout=90)
            yield
        finally:
            scale(deployment, "mcp-server", replicas)
            wait_until(
                "mcp-server available again",
                lambda: deployment_not_ready(deployment.kube, namespace, "mcp-server"),
                timeout=RECOVERY_BUDGET_SECONDS,
            )


@pytest.mark.criterion("EDGE-MCP")
def test_taskflow_stays_up_while_mcp_is_down(
    deployment: Deployment, probe: Probe, api_user: ApiUser, uptime: UptimeMonitor, evidence: EvidenceRecorder
) -> None:
    with mcp_server_stopped(deployment, uptime):
        down = chat(probe, api_user, "what's pending?")
        headers = {name.lower() for name in down.get("headers", {})}
        evidence.check(
            "EDGE-MCP",
            "chat answers 503 with Retry-After while MCP is down",
            ok=down.get("status") == 503 and "retry-after" in headers,
            metric="HTTP status",
            value=down.get("status"),
            budget="503 + Retry-After",
            detail=(down.get("body") or down.get("error") or "")[:200],
        )
        evidence.check(
            "EDGE-MCP",
            "chat fails fast while MCP is down",
            ok=down["seconds"] < CHAT_DOWN_BUDGET_SECONDS,
            metric="chat latency",
            value=round(down["seconds"], 3),
            unit="s",
            budget=f"< {CHAT_DOWN_BUDGET_SECONDS} s",
        )
        task = create_task(probe, api_user, f"written while MCP down {time.time_ns()}")
        evidence.check(
            "EDGE-MCP",
            "task API works while MCP is down",
            ok=bool(task.get("id")),
            metric="task created",
            value=str(task.get("id")),
            budget="created",
        )
        ready = probe.request("http://backend:8000/readyz")
        evidence.check(
            "EDGE-MCP",
            "backend /readyz stays ready while MCP is down",
            ok=ready.get("status") == 200,
            metric="HTTP status",
            value=ready.get("status"),
            budget="200",
        )

    def chat_works() -> str | None:
        status = chat(probe, api_user, "what's pending?").get("status")
        return None if status == 200 else f"chat answers {status}"

    recovered_after = wait_until("chat to recover by itself", chat_works, timeout=RECOVERY_BUDGET_SECONDS)
    evidence.check(
        "EDGE-MCP",
        "chat recovers by itself when MCP returns",
        ok=True,
        metric="recovery after MCP ready",
        value=round(recovered_after, 1),
        unit="s",
        budget=f"< {RECOVERY_BUDGET_SECONDS} s",
    )
