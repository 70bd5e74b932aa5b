"""Rolling restarts: chaostoolkit-kubernetes rolls a Deployment (`rollout_deployment`) but has no
StatefulSet equivalent, and nothing that waits for a rollout to finish and says how long it took."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping, Sequence
from typing import Any

from chaosk8s import create_k8s_api_client
from kubernetes import client

from taskflow_chaos.checks import check, outcome
from taskflow_chaos.clock import event, fault_clock
from taskflow_chaos.pods import pod_states, remembered
from taskflow_chaos.target import target_of

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def rollout_statefulset(
    name: str, configuration: Mapping[str, Any] | None = None, secrets: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What `kubectl rollout restart statefulset/NAME` does: a new template annotation."""
    now = datetime.datetime.now(datetime.UTC).isoformat()
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}
    apps = client.AppsV1Api(create_k8s_api_client(secrets))
    apps.patch_namespaced_stateful_set(name, target_of(configuration).namespace, body)
    return {"statefulset": name, "restartedAt": now, "events": [event(f"statefulset/{name} rolled")]}


def _not_rolled(apps: client.AppsV1Api, namespace: str, kind: str, name: str) -> str | None:
    if kind == "deployment":
        item = apps.read_namespaced_deployment(name, namespace)
        wanted = item.spec.replicas or 0
        status = item.status
        if (status.observed_generation or 0) < item.metadata.generation:
            return "change not observed yet"
        if (status.updated_replicas or 0) < wanted or (status.replicas or 0) > wanted:
            return f"{status.updated_replicas or 0}/{wanted} updated, {status.replicas} in all"
        if (status.available_replicas or 0) < wanted:
            return f"{status.available_replicas or 0}/{wanted} available"
        return None
    item = apps.read_namespaced_stateful_set(name, namespace)
    status = item.status
    wanted = item.spec.replicas or 0
    if (status.observed_generation or 0) < item.metadata.generation:
        return "change not observed yet"
    if status.update_revision != status.current_revision or (status.updated_replicas or 0) < wanted:
        return f"{status.updated_replicas or 0}/{wanted} updated"
    if (status.ready_replicas or 0) < wanted:
        return f"{status.ready_replicas or 0}/{wanted} ready"
    return None


def wait_rollouts(
    criterion: str,
    *,
    deployments: Sequence[str] = (),
    statefulsets: Sequence[str] = (),
    label_selector: str = "",
    budget_seconds: float = 180,
    timeout: float = 300,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every named workload finished rolling; fault proof: none of the pods `remember_pods` saw
    for `label_selector` before the roll is left."""
    started = fault_clock()
    api_client = create_k8s_api_client(secrets)
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    namespace = target_of(configuration).namespace
    workloads = [("deployment", name) for name in deployments] + [
        ("statefulset", name) for name in statefulsets
    ]
    before = set(remembered(label_selector)) if label_selector else set()
    pending: dict[str, str | None] = {}
    done_at: float | None = None
    while time.time() - started < timeout:
        pending = {f"{kind}/{name}": _not_rolled(apps, namespace, kind, name) for kind, name in workloads}
        if not any(pending.values()):
            done_at = time.time()
            break
        time.sleep(1)
    names = ", ".join(f"{kind}/{name}" for kind, name in workloads)
    checks = [
        check(
            criterion,
            f"rolled to new pods: {names}",
            ok=done_at is not None and done_at - started <= budget_seconds,
            metric="time to roll",
            value=round(done_at - started, 2) if done_at else None,
            unit="s",
            budget=f"<= {budget_seconds:.0f} s",
            detail="; ".join(f"{key}: {why}" for key, why in pending.items() if why),
            fault=True,
        )
    ]
    if label_selector:
        after = pod_states(core, namespace, label_selector)
        kept = [state.name for uid, state in after.items() if uid in before and not state.terminating]
        checks.append(
            check(
                criterion,
                f"fault observed: no pod of {label_selector} from before the roll is left",
                ok=done_at is not None and not kept,
                metric="old pods left",
                value=len(kept),
                budget="0",
                detail=", ".join(kept),
                fault=True,
            )
        )
    return outcome(*checks, events=[event(f"rolled: {names}")] if done_at else [])
