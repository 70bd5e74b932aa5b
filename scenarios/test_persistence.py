"""FR-008, SC-005: data written through the API survives the database pod being killed."""

from __future__ import annotations

import time

import pytest

from harness.deploy import Deployment
from harness.kube import wait_until
from harness.probe import Probe
from harness.recorder import EvidenceRecorder
from harness.taskflow_api import ApiUser, create_task, list_tasks
from harness.uptime import UptimeMonitor
from harness.workloads import deployment_not_ready, statefulset_not_ready

RECOVERY_BUDGET_SECONDS = 180


@pytest.mark.criterion("FR-008")
def test_database_claim_is_bound_on_default_class(deployment: Deployment, evidence: EvidenceRecorder) -> None:
    claims = deployment.kube.core.list_namespaced_persistent_volume_claim(deployment.namespace).items
    data_claims = [claim for claim in claims if claim.metadata.name.startswith("data-postgres-")]
    bound = [claim for claim in data_claims if claim.status.phase == "Bound"]
    evidence.check(
        "FR-008",
        "postgres volumeClaimTemplate 'data' bound by dynamic provisioning",
        ok=bool(data_claims) and len(bound) == len(data_claims),
        metric="bound claims",
        value=len(bound),
        budget=f"= {len(data_claims) or 1}",
        detail=", ".join(
            f"{c.metadata.name}→{c.spec.volume_name} ({c.spec.storage_class_name})" for c in claims
        ),
    )


@pytest.mark.criterion("FR-008", "SC-005")
def test_tasks_survive_database_pod_kill(
    deployment: Deployment, probe: Probe, api_user: ApiUser, uptime: UptimeMonitor, evidence: EvidenceRecorder
) -> None:
    titles = [f"persist-{index}-{time.time_ns()}" for index in range(3)]
    for title in titles:
        create_task(probe, api_user, title)
    old_pod = deployment.kube.core.read_namespaced_pod("postgres-0", deployment.namespace)
    with uptime.disruption("postgres-0 killed on purpose (FR-008)"):
        deployment.kube.core.delete_namespaced_pod("postgres-0", deployment.namespace, grace_period_seconds=0)
        started = time.monotonic()

        def new_pod_ready() -> str | None:
            pod = deployment.kube.core.read_namespaced_pod("postgres-0", deployment.namespace)
            if pod.metadata.uid == old_pod.metadata.uid:
                return "old pod still there"
            return statefulset_not_ready(deployment.kube, deployment.namespace, "postgres")

        wait_until("postgres-0 to be recreated and ready", new_pod_ready, timeout=RECOVERY_BUDGET_SECONDS)
        wait_until(
            "backend ready again",
            lambda: deployment_not_ready(deployment.kube, deployment.namespace, "backend"),
            timeout=RECOVERY_BUDGET_SECONDS,
        )
    recovery = time.monotonic() - started
    surviving = {task["title"] for task in list_tasks(probe, api_user)}
    lost = [title for title in titles if title not in surviving]
    evidence.check(
        "SC-005",
        "tasks survive killing postgres-0",
        ok=not lost,
        metric="tasks lost",
        value=len(lost),
        budget=f"0 of {len(titles)}",
        detail=", ".join(lost),
    )
    evidence.check(
        "FR-008",
        "database back after pod kill",
        ok=recovery < RECOVERY_BUDGET_SECONDS,
        metric="recovery time",
        value=round(recovery, 1),
        unit="s",
        budget=f"< {RECOVERY_BUDGET_SECONDS} s",
    )
