"""Noisy neighbours: pods in Taskflow's namespace that eat memory past their limit or burn CPU up
to theirs. They pass the namespace's restricted Pod Security profile (non-root, no capabilities,
RuntimeDefault seccomp, read-only root) and need no network, so the default-deny NetworkPolicy
holds them too. They run Python from the backend image already on the node: nothing to pull.

A hog started with `own_limits=False` sets no requests or limits, as a careless neighbour would:
only the namespace's LimitRange can bound it, and `start_hog` records whether it did.
"""

from __future__ import annotations

import secrets as tokens
import time
from collections.abc import Mapping
from typing import Any

from chaosk8s import create_k8s_api_client
from kubernetes import client

from taskflow_chaos.checks import check, outcome
from taskflow_chaos.clock import event, fault_clock
from taskflow_chaos.target import target_of

HOG_NAME_LABEL = "app.kubernetes.io/name"
HOG_NAME = "chaos-hog"
HOG_SELECTOR = f"{HOG_NAME_LABEL}={HOG_NAME}"

# Write every page, 16 MiB at a time, so the memory is really charged to the cgroup.
MEMORY_SCRIPT = """
import sys, time
chunks, target = [], int(sys.argv[1]) * 1024 * 1024
while len(chunks) * 16 * 1024 * 1024 < target:
    chunks.append(b"x" * (16 * 1024 * 1024))  # written, so really charged (bytearray() maps zero pages)
    print(f"holding {len(chunks) * 16} MiB", flush=True)
time.sleep(600)
"""
CPU_SCRIPT = """
import sys, time
ends = time.monotonic() + float(sys.argv[1])
while time.monotonic() < ends:
    pass
"""


def _image(api: client.AppsV1Api, namespace: str, deployment: str) -> str:
    image: str = api.read_namespaced_deployment(deployment, namespace).spec.template.spec.containers[0].image
    return image


def hog_pod(name: str, image: str, command: list[str], limits: Mapping[str, str] | None) -> dict[str, Any]:
    """The hog's pod; `limits` None leaves its container without requests or limits."""
    resources = {} if limits is None else {"resources": {"requests": dict(limits), "limits": dict(limits)}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {HOG_NAME_LABEL: HOG_NAME}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "hog",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": command,
                    **resources,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def start_hog(
    kind: str,
    *,
    memory_limit: str = "64Mi",
    cpu_limit: str = "250m",
    allocate_mib: int = 256,
    seconds: float = 30,
    own_limits: bool = True,
    criterion: str = "",
    image_of: str = "backend",
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Start a memory hog (allocates `allocate_mib`) or a CPU hog (burns one core for `seconds`),
    under its own `memory_limit` and `cpu_limit`, or with `own_limits=False` under none: then the
    pod the API server admitted must carry the namespace's default limits (a check under
    `criterion`)."""
    api_client = create_k8s_api_client(secrets)
    namespace = target_of(configuration).namespace
    image = _image(client.AppsV1Api(api_client), namespace, image_of)
    if kind == "memory":
        command = ["python", "-c", MEMORY_SCRIPT, str(allocate_mib)]
    elif kind == "cpu":
        command = ["python", "-c", CPU_SCRIPT, str(seconds)]
    else:
        raise ValueError(f"kind must be memory or cpu, not {kind!r}")
    name = f"chaos-{kind}-hog-{tokens.token_hex(3)}"
    limits = {"cpu": cpu_limit, "memory": memory_limit, "ephemeral-storage": "16Mi"} if own_limits else None
    fault_clock()
    admitted = client.CoreV1Api(api_client).create_namespaced_pod(
        namespace, hog_pod(name, image, command, limits)
    )
    created = {"pod": name, "image": image, "events": [event(f"{kind} hog {name} created")]}
    if own_limits:
        return created
    return outcome(defaults_check(kind, criterion, admitted.spec.containers[0].resources), **created)


def defaults_check(kind: str, criterion: str, resources: Any) -> dict[str, Any]:
    """Whether the admitted hog container, which asked for nothing, got CPU and memory limits."""
    given = dict((resources.limits if resources is not None else None) or {})
    missing = [resource for resource in ("cpu", "memory") if resource not in given]
    return check(
        criterion,
        f"{kind} hog without limits of its own gets the namespace's default limits",
        ok=not missing,
        metric="limits admitted",
        value=", ".join(f"{resource} {given[resource]}" for resource in sorted(given)) or "none",
        budget="cpu and memory set by the namespace's LimitRange",
        detail=f"no {' or '.join(missing)} limit: nothing bounds it but the node" if missing else "",
    )


def _hogs(api: client.CoreV1Api, namespace: str, kind: str) -> list[Any]:
    return [
        pod
        for pod in api.list_namespaced_pod(namespace, label_selector=HOG_SELECTOR).items
        if pod.metadata.name.startswith(f"chaos-{kind}-hog-")
    ]


def wait_hog(
    kind: str,
    criterion: str,
    *,
    timeout: float = 90,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Fault proof: the memory hog's container terminated OOMKilled; the CPU hog is running."""
    api = client.CoreV1Api(create_k8s_api_client(secrets))
    namespace = target_of(configuration).namespace
    started = time.time()
    seen = "no hog pod"
    reached: float | None = None
    while time.time() - started < timeout:
        for pod in _hogs(api, namespace, kind):
            for status in pod.status.container_statuses or []:
                terminated = status.state.terminated if status.state else None
                if terminated is not None:
                    seen = f"{pod.metadata.name} terminated {terminated.reason} ({terminated.exit_code})"
                elif status.state and status.state.running:
                    seen = f"{pod.metadata.name} running"
            wanted = "OOMKilled" if kind == "memory" else "running"
            if wanted in seen:
                reached = time.time()
        if reached:
            break
        time.sleep(0.5)
    what = "memory hog OOM-killed at its limit" if kind == "memory" else "CPU hog running under its limit"
    return outcome(
        check(
            criterion,
            f"fault observed: {what}",
            ok=reached is not None,
            metric="time to observed",
            value=round(reached - started, 2) if reached else None,
            unit="s",
            budget=f"within {timeout:.0f} s",
            detail=seen,
            fault=True,
        ),
        events=[event(what)] if reached else [],
    )


def delete_hogs(
    configuration: Mapping[str, Any] | None = None, secrets: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    api = client.CoreV1Api(create_k8s_api_client(secrets))
    namespace = target_of(configuration).namespace
    names = [
        pod.metadata.name for pod in api.list_namespaced_pod(namespace, label_selector=HOG_SELECTOR).items
    ]
    for name in names:
        api.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    return {"deleted": names, "events": [event("hogs deleted")] if names else []}
