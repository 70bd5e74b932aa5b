"""Waits that prove a pod fault happened and measure the way back; chaostoolkit-kubernetes has
the faults (terminate_pods, scale_deployment, rollout_deployment) but no probe that waits for a
*replacement* or a *restart* and says how long it took.

`remember_pods` snapshots the pods of a selector (UID, restart counts); the waits compare with it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaosk8s import create_k8s_api_client
from kubernetes import client

from taskflow_chaos.checks import Check, check, outcome
from taskflow_chaos.clock import event, fault_clock, reset_fault_clock
from taskflow_chaos.target import target_of

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class PodState:
    name: str
    uid: str
    restarts: int
    ready: bool
    terminating: bool
    last_termination: str
    """reason and exit code of the last terminated container, e.g. "OOMKilled (137)"."""


_remembered: dict[str, dict[str, PodState]] = {}


def core(secrets: Mapping[str, Any] | None) -> client.CoreV1Api:
    return client.CoreV1Api(create_k8s_api_client(secrets))


def pod_states(api: client.CoreV1Api, namespace: str, label_selector: str) -> dict[str, PodState]:
    states = {}
    for pod in api.list_namespaced_pod(namespace, label_selector=label_selector).items:
        statuses = pod.status.container_statuses or []
        conditions = {item.type: item.status for item in pod.status.conditions or []}
        last = ""
        for status in statuses:
            terminated = status.last_state.terminated if status.last_state else None
            if terminated is not None:
                last = f"{terminated.reason} ({terminated.exit_code})"
        states[pod.metadata.uid] = PodState(
            pod.metadata.name,
            pod.metadata.uid,
            sum(status.restart_count for status in statuses),
            conditions.get("Ready") == "True",
            pod.metadata.deletion_timestamp is not None,
            last,
        )
    return states


def remember_pods(
    label_selector: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    namespace = target_of(configuration).namespace
    states = pod_states(core(secrets), namespace, label_selector)
    if not states:
        raise RuntimeError(f"no pod matches {label_selector!r} in namespace {namespace}")
    _remembered[label_selector] = states
    reset_fault_clock()
    return {"pods": {state.name: {"uid": uid, "restarts": state.restarts} for uid, state in states.items()}}


def remembered(label_selector: str) -> dict[str, PodState]:
    if label_selector not in _remembered:
        raise RuntimeError(f"remember_pods({label_selector!r}) must run before this probe")
    return _remembered[label_selector]


def wait_pods_replaced(
    label_selector: str,
    criterion: str,
    *,
    budget_seconds: float = 120,
    timeout: float = 240,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The remembered pods are gone (fault) and as many new ones are ready (recovery)."""
    started = fault_clock()
    namespace = target_of(configuration).namespace
    api = core(secrets)
    before = remembered(label_selector)
    observed_at: float | None = None
    back_at: float | None = None
    events = []
    now: dict[str, PodState] = {}
    affected: set[str] = set()
    while time.time() - started < timeout:
        now = pod_states(api, namespace, label_selector)
        newly = {uid for uid in before if (uid not in now or now[uid].terminating) and uid not in affected}
        if newly:
            affected |= newly
            observed_at = observed_at or time.time()
            events.append(event(f"pod gone: {', '.join(before[uid].name for uid in newly)}"))
        serving = [state for state in now.values() if state.ready and not state.terminating]
        if affected and not any(uid in now for uid in affected) and len(serving) >= len(before):
            back_at = time.time()
            events.append(event("replacement ready"))
            break
        time.sleep(POLL_SECONDS)
    checks = [_fault_check(criterion, f"pods {label_selector} deleted", observed_at, started)]
    checks.append(
        _recovery_check(
            criterion,
            f"replacement pods for {label_selector} ready",
            at=back_at,
            started=started,
            budget=budget_seconds,
            timeout=timeout,
            detail=", ".join(f"{state.name} ready={state.ready}" for state in now.values()),
        )
    )
    return outcome(
        *checks,
        events=events,
        seconds_to_fault=_seconds(observed_at, started),
        seconds_to_back=_seconds(back_at, started),
    )


def wait_restarted(
    label_selector: str,
    criterion: str,
    *,
    budget_seconds: float = 120,
    timeout: float = 240,
    expect_reason: str = "",
    expect_nonzero_exit: bool = False,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A remembered pod's container restarted in place (same UID, restartCount up) and is ready again."""
    started = fault_clock()
    namespace = target_of(configuration).namespace
    api = core(secrets)
    before = remembered(label_selector)
    observed_at: float | None = None
    back_at: float | None = None
    restarted: PodState | None = None
    events = []
    while time.time() - started < timeout:
        now = pod_states(api, namespace, label_selector)
        bumped = [
            state for uid, state in now.items() if uid in before and state.restarts > before[uid].restarts
        ]
        if observed_at is None and bumped:
            observed_at, restarted = time.time(), bumped[0]
            events.append(event(f"{restarted.name} restarted: {restarted.last_termination}"))
        if restarted is not None:
            current = now.get(restarted.uid)
            if current is not None and current.ready:
                restarted, back_at = current, time.time()
                events.append(event(f"{current.name} ready again"))
                break
        time.sleep(POLL_SECONDS)
    termination = restarted.last_termination if restarted else ""
    fault_ok = observed_at is not None
    if fault_ok and expect_reason and not termination.startswith(expect_reason):
        fault_ok = False
    if fault_ok and expect_nonzero_exit and termination.endswith("(0)"):
        fault_ok = False
    checks = [
        check(
            criterion,
            f"container of {label_selector} restarted"
            + (f" ({expect_reason})" if expect_reason else "")
            + (" after exiting non-zero" if expect_nonzero_exit else ""),
            ok=fault_ok,
            metric="time to restart observed",
            value=_seconds(observed_at, started),
            unit="s",
            budget=f"restartCount up within {timeout:.0f} s"
            + (f", reason {expect_reason}" if expect_reason else ""),
            detail=f"last termination: {termination or 'none'}",
            fault=True,
        ),
        _recovery_check(
            criterion,
            f"restarted pod of {label_selector} ready again",
            at=back_at,
            started=started,
            budget=budget_seconds,
            timeout=timeout,
        ),
    ]
    return outcome(
        *checks,
        events=events,
        last_termination=termination,
        seconds_to_fault=_seconds(observed_at, started),
        seconds_to_back=_seconds(back_at, started),
    )


def wait_no_pods(
    label_selector: str,
    criterion: str,
    *,
    timeout: float = 90,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every pod of the selector is gone: not only unready (terminating pods may still serve)."""
    started = fault_clock()
    namespace = target_of(configuration).namespace
    api = core(secrets)
    gone_at: float | None = None
    left: dict[str, PodState] = {}
    while time.time() - started < timeout:
        left = pod_states(api, namespace, label_selector)
        if not left:
            gone_at = time.time()
            break
        time.sleep(POLL_SECONDS)
    return outcome(
        _fault_check(
            criterion,
            f"no pod of {label_selector} left",
            gone_at,
            started,
            detail=", ".join(state.name for state in left.values()),
        ),
        events=[event(f"no pod of {label_selector} left")] if gone_at else [],
        seconds_to_fault=_seconds(gone_at, started),
    )


def restart_counts_unchanged(
    label_selector: str,
    criterion: str,
    *,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The remembered pods are all still there with the restart counts they had."""
    before = remembered(label_selector)
    now = pod_states(core(secrets), target_of(configuration).namespace, label_selector)
    changed = [
        f"{state.name}: "
        + ("gone" if uid not in now else f"{state.restarts}→{now[uid].restarts} {now[uid].last_termination}")
        for uid, state in before.items()
        if uid not in now or now[uid].restarts != state.restarts
    ]
    return outcome(
        check(
            criterion,
            f"pods {label_selector} kept their restart counts",
            ok=not changed,
            metric="pods restarted or replaced",
            value=len(changed),
            budget=f"0 of {len(before)}",
            detail="; ".join(changed),
        )
    )


def _seconds(at: float | None, started: float) -> float | None:
    return None if at is None else round(at - started, 2)


def _fault_check(criterion: str, what: str, at: float | None, started: float, detail: str = "") -> Check:
    return check(
        criterion,
        f"fault observed: {what}",
        ok=at is not None,
        metric="time to fault observed",
        value=_seconds(at, started),
        unit="s",
        budget="observed",
        detail=detail if at is None else "",
        fault=True,
    )


def _recovery_check(
    criterion: str,
    what: str,
    *,
    at: float | None,
    started: float,
    budget: float,
    timeout: float,
    detail: str = "",
) -> Check:
    seconds = _seconds(at, started)
    return check(
        criterion,
        what,
        ok=seconds is not None and seconds <= budget,
        metric="time from fault",
        value=seconds,
        unit="s",
        budget=f"<= {budget:.0f} s",
        detail=f"not back within {timeout:.0f} s; {detail}" if seconds is None else "",
    )
