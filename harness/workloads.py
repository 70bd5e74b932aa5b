"""Readiness of workloads and the diagnosis printed when they are not ready in time."""

from __future__ import annotations

from harness.kube import Kube

EVENTS_SHOWN = 12


def deployment_not_ready(kube: Kube, namespace: str, name: str) -> str | None:
    deployment = kube.apps.read_namespaced_deployment(name, namespace)
    wanted = deployment.spec.replicas or 0
    status = deployment.status
    if (status.observed_generation or 0) < (deployment.metadata.generation or 0):
        return "controller has not observed the latest spec"
    if (status.updated_replicas or 0) < wanted:
        return f"{status.updated_replicas or 0}/{wanted} replicas updated"
    if (status.available_replicas or 0) < wanted:
        return f"{status.available_replicas or 0}/{wanted} replicas available"
    return None


def statefulset_not_ready(kube: Kube, namespace: str, name: str) -> str | None:
    statefulset = kube.apps.read_namespaced_stateful_set(name, namespace)
    wanted = statefulset.spec.replicas or 0
    ready = statefulset.status.ready_replicas or 0
    if (statefulset.status.observed_generation or 0) < (statefulset.metadata.generation or 0):
        return "controller has not observed the latest spec"
    return None if ready >= wanted else f"{ready}/{wanted} replicas ready"


def claims_not_bound(kube: Kube, namespace: str) -> str | None:
    claims = kube.core.list_namespaced_persistent_volume_claim(namespace).items
    pending = [claim.metadata.name for claim in claims if claim.status.phase != "Bound"]
    return f"PVCs not bound: {', '.join(pending)}" if pending else None


def describe_namespace(kube: Kube, namespace: str) -> str:
    """Pods with their state and the newest events: what a person would look at first."""
    lines = [f"pods in {namespace}:"]
    for pod in kube.core.list_namespaced_pod(namespace).items:
        states = []
        for container in pod.status.container_statuses or []:
            state = container.state
            if state.waiting:
                states.append(
                    f"{container.name}: waiting ({state.waiting.reason}: {state.waiting.message or ''})"
                )
            elif state.terminated:
                states.append(f"{container.name}: terminated ({state.terminated.reason})")
            else:
                states.append(f"{container.name}: {'ready' if container.ready else 'running, not ready'}")
            if container.restart_count:
                states[-1] += f", {container.restart_count} restarts"
        lines.append(f"  {pod.metadata.name} [{pod.status.phase}] {'; '.join(states) or 'no containers yet'}")
    events = sorted(
        kube.core.list_namespaced_event(namespace).items,
        key=lambda event: str(event.last_timestamp or event.event_time or ""),
    )
    lines.append("newest events:")
    lines.extend(
        f"  {event.type} {involved.kind}/{involved.name}: {event.reason}: {event.message}"
        for event in events[-EVENTS_SHOWN:]
        for involved in [event.involved_object]
    )
    return "\n".join(lines)
