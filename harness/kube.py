"""Kubernetes API access: clients from a kubeconfig, server-side apply, and waits that say why."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient

from harness.errors import UserError

FIELD_MANAGER = "taskflow-conformance"
POLL_SECONDS = 1.0
PROGRESS_EVERY_SECONDS = 10.0

# Apply order: what others refer to goes first.
KIND_ORDER = [
    "Namespace",
    # Before any pod: its defaults are applied when a pod is admitted.
    "LimitRange",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "StatefulSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
    "NetworkPolicy",
]


class WaitTimeoutError(AssertionError):
    """A wait ran out of time; the message says what it waited for and what it last saw."""


@dataclass
class Kube:
    """One cluster's API clients, built from a kubeconfig file."""

    api_client: client.ApiClient
    kubeconfig: Path

    @classmethod
    def from_kubeconfig(cls, kubeconfig: Path) -> Kube:
        if not kubeconfig.is_file():
            raise UserError(
                "kubeconfig not found", where=str(kubeconfig), fix="pass --kubeconfig with an existing file"
            )
        api_client = config.new_client_from_config(config_file=str(kubeconfig))
        return cls(api_client=api_client, kubeconfig=kubeconfig)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    @property
    def autoscaling(self) -> client.AutoscalingV2Api:
        return client.AutoscalingV2Api(self.api_client)

    @property
    def networking(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self.api_client)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api_client)

    @cached_property
    def dynamic(self) -> DynamicClient:
        # Building one runs API discovery (seconds); every caller shares the first.
        return DynamicClient(self.api_client)

    @cached_property
    def exec_core(self) -> client.CoreV1Api:
        # kubernetes.stream swaps the request method of the ApiClient it is given while a call
        # runs, which breaks any other thread using that client; exec gets a client of its own.
        return client.CoreV1Api(config.new_client_from_config(config_file=str(self.kubeconfig)))

    def clone(self) -> Kube:
        """Clients of their own, for another thread."""
        return Kube.from_kubeconfig(self.kubeconfig)

    @property
    def discovery(self) -> client.DiscoveryV1Api:
        return client.DiscoveryV1Api(self.api_client)

    def apply(self, manifest: dict[str, Any]) -> None:
        """Server-side apply one object (forcing conflicts: the harness owns what it deploys)."""
        resource = self.dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
        self.dynamic.server_side_apply(
            resource,
            body=manifest,
            namespace=manifest["metadata"].get("namespace"),
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )

    def apply_all(self, manifests: Iterable[dict[str, Any]]) -> list[str]:
        """Apply in dependency order; return 'Kind/name' of each object applied."""
        ordered = sorted(manifests, key=lambda item: kind_rank(item["kind"]))
        applied = []
        for manifest in ordered:
            name = f"{manifest['kind']}/{manifest['metadata']['name']}"
            try:
                self.apply(manifest)
            except urllib3.exceptions.MaxRetryError as error:
                raise UserError(
                    f"the API server {self.api_client.configuration.host} did not answer while applying"
                    f" {name} ({type(error.reason).__name__})",
                    where=str(self.kubeconfig),
                    fix="check that the cluster runs (`nox -s cluster -- status` for the embedded one)",
                ) from None
            applied.append(name)
        return applied


def kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def wait_until(
    what: str,
    check: Callable[[], str | None],
    *,
    timeout: float,
    diagnose: Callable[[], str] | None = None,
) -> float:
    """Poll check() until it returns None; it returns the reason it is not done yet otherwise.

    Prints progress every few seconds so long waits are visible; returns the seconds waited.
    On timeout raises WaitTimeoutError naming what, the last reason, and diagnose()'s output.
    """
    start = time.monotonic()
    last_progress = start
    reason: str | None = "not checked yet"
    while True:
        try:
            reason = check()
        except client.ApiException as error:
            reason = f"API error {error.status}: {error.reason}"
        except urllib3.exceptions.HTTPError as error:
            reason = f"API server unreachable ({type(error).__name__})"
        now = time.monotonic()
        if reason is None:
            return now - start
        if now - start > timeout:
            extra = f"\n{diagnose()}" if diagnose else ""
            raise WaitTimeoutError(f"timed out after {timeout:.0f}s waiting for {what}: {reason}{extra}")
        if now - last_progress >= PROGRESS_EVERY_SECONDS:
            print(f"  … waiting for {what} ({now - start:.0f}s): {reason}", file=sys.stderr, flush=True)
            last_progress = now
        time.sleep(POLL_SECONDS)


def exec_in_pod(
    kube: Kube, namespace: str, pod: str, command: list[str], container: str | None = None
) -> str:
    """Run a command in a pod's container and return what it printed (stdout and stderr)."""
    from kubernetes.stream import stream  # noqa: PLC0415 - patches the client; keep it local

    arguments: dict[str, Any] = {
        "command": command,
        "stderr": True,
        "stdin": False,
        "stdout": True,
        "tty": False,
    }
    if container:
        arguments["container"] = container
    output: str = stream(kube.exec_core.connect_get_namespaced_pod_exec, pod, namespace, **arguments)
    return output
