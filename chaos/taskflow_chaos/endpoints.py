"""Watch a Service's EndpointSlices for one pod: readiness taking it out, and putting it back."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from chaosk8s import create_k8s_api_client
from kubernetes import client

from taskflow_chaos.checks import check, outcome
from taskflow_chaos.clock import event, fault_clock, mark
from taskflow_chaos.faults import chosen_pod
from taskflow_chaos.target import target_of

POLL_SECONDS = 0.5


def pod_endpoint_ready(
    api: client.DiscoveryV1Api, namespace: str, service: str, pod_name: str
) -> bool | None:
    """Ready condition of the pod's endpoint in the Service's slices; None when it is not listed."""
    slices = api.list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}"
    )
    for endpoint_slice in slices.items:
        for endpoint in endpoint_slice.endpoints or []:
            if endpoint.target_ref is not None and endpoint.target_ref.name == pod_name:
                return bool(endpoint.conditions and endpoint.conditions.ready)
    return None


def wait_endpoint(
    service: str,
    criterion: str,
    *,
    role: str,
    ready: bool,
    budget_seconds: float,
    timeout: float = 120,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Wait until the pod a fault picked (`role`) is (not) a ready endpoint of the Service."""
    pod_name = chosen_pod(role)
    started = time.time()
    since_fault = fault_clock()
    what = f"the {role} pod {'back in' if ready else 'out of'} Service {service}'s ready endpoints"
    what = what if ready else f"fault observed: {what}"
    if pod_name is None:
        return outcome(
            check(
                criterion,
                what,
                ok=False,
                metric="pod",
                value=None,
                budget="a pod picked by the fault",
                detail=f"no fault of this experiment picked a {role!r} pod",
                fault=not ready,
            )
        )
    api = client.DiscoveryV1Api(create_k8s_api_client(secrets))
    namespace = target_of(configuration).namespace
    reached: float | None = None
    state: bool | None = None
    while time.time() - started < timeout:
        state = pod_endpoint_ready(api, namespace, service, pod_name)
        if (state is True) == ready:
            reached = time.time()
            break
        time.sleep(POLL_SECONDS)
    mark(f"endpoint-{'back' if ready else 'removed'}")
    seconds = None if reached is None else round(reached - (started if ready else since_fault), 2)
    return outcome(
        check(
            criterion,
            what,
            ok=seconds is not None and seconds <= budget_seconds,
            metric="time from " + ("dependency restored" if ready else "fault"),
            value=seconds,
            unit="s",
            budget=f"<= {budget_seconds:.0f} s",
            detail=f"pod {pod_name}" + (f"; last endpoint state: {state}" if seconds is None else ""),
            fault=not ready,
        ),
        events=[event(f"{pod_name} {'back in' if ready else 'out of'} {service} endpoints")]
        if reached
        else [],
        seconds=seconds,
    )
