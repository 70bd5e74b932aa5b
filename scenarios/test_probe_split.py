"""FR-006: readiness and liveness answer different questions.

mcp-server and backend depend on PostgreSQL. While it is down, their readiness (/ready, /readyz)
must take them out of their Services, and their liveness (/health, /healthz: the process only)
must not restart them; when it returns they are ready again by themselves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest

from harness import checks, live
from harness.deploy import Deployment
from harness.kube import WaitTimeoutError, wait_until
from harness.recorder import EvidenceRecorder
from harness.uptime import UptimeMonitor
from harness.workloads import deployment_not_ready, statefulset_not_ready

DEPENDENTS = ("mcp-server", "backend")
# Longer than liveness can take to restart a container (3 failures x 10 s + 2 s timeout), so a
# liveness probe that checked the database would have restarted it inside the window.
OUTAGE_HOLD_SECONDS = 50
# readiness: 2 failures x 5 s period (+ 2 s timeout), plus endpoint propagation
UNREADY_BUDGET_SECONDS = 30
RECOVERY_BUDGET_SECONDS = 180


def restart_counts(deployment: Deployment, service: str) -> dict[str, int]:
    """Pod name -> restarts of its containers, for the service's pods."""
    return {
        pod["metadata"]["name"]: sum(
            status.get("restartCount", 0) for status in pod.get("status", {}).get("containerStatuses") or []
        )
        for pod in live.pods(deployment)
        if checks.pod_label(pod) == service and not pod["metadata"].get("deletionTimestamp")
    }


def postgres_pods_left(deployment: Deployment) -> str | None:
    pods = [pod for pod in live.pods(deployment) if checks.pod_label(pod) == "postgres"]
    return f"{len(pods)} postgres pods still exist" if pods else None


def scale_postgres(deployment: Deployment, replicas: int) -> None:
    deployment.kube.apps.patch_namespaced_stateful_set_scale(
        "postgres", deployment.namespace, {"spec": {"replicas": replicas}}
    )


@contextmanager
def postgres_stopped(deployment: Deployment, uptime: UptimeMonitor) -> Iterator[float]:
    """Scale postgres to 0 until the block ends (yields when it started), then back, waiting for
    postgres and its dependents to be available again."""
    with uptime.disruption(
        "postgres scaled to 0 on purpose (readiness vs liveness, FR-006)",
        ["backend", "mcp-server", "/api through the ingress"],
    ):
        started = time.monotonic()
        scale_postgres(deployment, 0)
        try:
            yield started
        finally:
            scale_postgres(deployment, 1)
            namespace = deployment.namespace
            wait_until(
                "postgres ready again",
                lambda: statefulset_not_ready(deployment.kube, namespace, "postgres"),
                timeout=RECOVERY_BUDGET_SECONDS,
            )
            for service in DEPENDENTS:
                wait_until(
                    f"{service} available again",
                    partial(deployment_not_ready, deployment.kube, namespace, service),
                    timeout=RECOVERY_BUDGET_SECONDS,
                )


def no_ready_endpoint(deployment: Deployment, service: str) -> str | None:
    count = live.ready_endpoint_count(deployment, service)
    return f"{service} still has {count} ready endpoint(s)" if count else None


@pytest.mark.criterion("FR-006")
def test_readiness_drops_dependents_while_postgres_is_down_and_liveness_keeps_them(
    deployment: Deployment, uptime: UptimeMonitor, evidence: EvidenceRecorder
) -> None:
    before = {service: restart_counts(deployment, service) for service in DEPENDENTS}
    unready_after: dict[str, float | None] = {}
    during: dict[str, dict[str, Any]] = {}
    with postgres_stopped(deployment, uptime) as started:
        for service in DEPENDENTS:
            try:
                wait_until(
                    f"{service} out of its Service",
                    partial(no_ready_endpoint, deployment, service),
                    timeout=UNREADY_BUDGET_SECONDS + OUTAGE_HOLD_SECONDS,
                )
                unready_after[service] = time.monotonic() - started
            except WaitTimeoutError as error:
                unready_after[service] = None
                during[service] = {"error": str(error).splitlines()[0]}
        time.sleep(max(0.0, started + OUTAGE_HOLD_SECONDS - time.monotonic()))
        held = time.monotonic() - started
        postgres_gone = postgres_pods_left(deployment) is None
        for service in DEPENDENTS:
            during.setdefault(service, {})["restarts"] = restart_counts(deployment, service)
    recovered_after = time.monotonic() - started - held

    for service in DEPENDENTS:
        seconds = unready_after[service]
        evidence.check(
            "FR-006",
            f"{service} readiness takes it out of its Service while postgres is down",
            ok=seconds is not None and seconds <= UNREADY_BUDGET_SECONDS,
            metric="time to 0 ready endpoints",
            value=round(seconds, 1) if seconds is not None else None,
            unit="s",
            budget=f"<= {UNREADY_BUDGET_SECONDS} s",
            detail=during[service].get(
                "error", f"postgres scaled to 0; its pod gone by the end: {postgres_gone}"
            ),
        )
        old, new = before[service], during[service]["restarts"]
        restarted = {name: new[name] - old[name] for name in old if name in new and new[name] > old[name]}
        replaced = sorted(set(old) - set(new))
        evidence.check(
            "FR-006",
            f"{service} liveness does not restart it while postgres is down",
            ok=not restarted and not replaced,
            metric="container restarts during the outage",
            value=sum(restarted.values()) + len(replaced),
            budget="0",
            detail=f"{len(old)} pod(s) watched for {held:.0f} s with postgres down"
            + (f"; restarted: {restarted}" if restarted else "")
            + (f"; replaced: {replaced}" if replaced else ""),
        )
    evidence.check(
        "FR-006",
        "mcp-server and backend ready again by themselves once postgres is back",
        ok=True,
        metric="postgres scale-up to dependents available",
        value=round(recovered_after, 1),
        unit="s",
        budget=f"< {RECOVERY_BUDGET_SECONDS} s",
    )
