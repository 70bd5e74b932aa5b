"""Deploy Taskflow from manifests/ into one namespace and wait on real conditions."""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from harness.deployment import Deployment
from harness.errors import UserError
from harness.kube import Kube, wait_until
from harness.providers import Provider
from harness.workloads import (
    claims_not_bound,
    deployment_not_ready,
    describe_namespace,
    statefulset_not_ready,
)

__all__ = [
    "Deployment",
    "api_server_version",
    "deploy_taskflow",
    "ingress_host_holders",
    "remove_namespace",
    "remove_taskflow",
]

DEPLOYMENTS = ("frontend", "backend", "mcp-server")
HOST_RELEASE_TIMEOUT_SECONDS = 180
STATEFULSETS = ("postgres",)
ROLLOUT_TIMEOUT_SECONDS = 300
CLUSTER_SCOPED_KINDS = {"Namespace", "StorageClass", "IngressClass", "ClusterRole", "ClusterRoleBinding"}


def retarget_namespace(manifests: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """Copies of the manifests moved into namespace (the Namespace object renamed to match)."""
    moved = []
    for manifest in manifests:
        item = copy.deepcopy(manifest)
        metadata = item.setdefault("metadata", {})
        if item["kind"] == "Namespace":
            metadata["name"] = namespace
            metadata.setdefault("labels", {})["kubernetes.io/metadata.name"] = namespace
        elif item["kind"] not in CLUSTER_SCOPED_KINDS:
            metadata["namespace"] = namespace
        moved.append(item)
    return moved


def image_name(reference: str) -> str:
    """The image name without its tag: what kustomize's `images:` override matches on."""
    name, separator, tag = reference.rpartition(":")
    return name if separator and "/" not in tag else reference


def step(timings: dict[str, float], name: str, started: float) -> None:
    timings[name] = round(time.monotonic() - started, 2)
    print(f"  ✓ {name} ({timings[name]:.1f}s)", file=sys.stderr, flush=True)


def deploy_taskflow(
    provider: Provider,
    kubeconfig: Path,
    namespace: str,
    run_dir: Path,
    mutate: Callable[[list[dict[str, Any]]], None] | None = None,
) -> Deployment:
    """Build and load images, render the provider's overlay into `namespace`, apply, wait.

    `mutate` changes the rendered manifests before they are applied (see harness.sabotage).
    """
    from harness.images import build_images  # noqa: PLC0415 - heavy, only for real runs
    from harness.render import render_overlay  # noqa: PLC0415
    from harness.secrets import generate_secrets  # noqa: PLC0415

    timings: dict[str, float] = {}
    started = time.monotonic()
    print(f"deploying Taskflow into namespace {namespace} ({provider.name})", file=sys.stderr)
    built = build_images()
    step(timings, "build images", started)

    started = time.monotonic()
    provider.load_archives([image.archive for image in built])
    step(timings, "load images", started)

    started = time.monotonic()
    images = {image_name(image.reference): provider.image_reference(image.reference) for image in built}
    rendered = render_overlay(
        provider.overlay, namespace=namespace, images=images, run_secrets=generate_secrets()
    )
    manifests = retarget_namespace(rendered, namespace)
    if mutate is not None:
        mutate(manifests)
    (run_dir / "manifests.yaml").write_text(yaml.safe_dump_all(redacted(manifests)), encoding="utf-8")
    kube = Kube.from_kubeconfig(kubeconfig)
    refuse_shared_ingress_host(kube, namespace, manifests)
    kube.apply_all(manifests)
    step(timings, "apply manifests", started)

    deployment = Deployment(kube, namespace, provider.ingress(), images, manifests, timings)
    wait_for_rollout(deployment)
    return deployment


def wait_for_rollout(deployment: Deployment) -> None:
    kube, namespace = deployment.kube, deployment.namespace

    def diagnose() -> str:
        return describe_namespace(kube, namespace)

    started = time.monotonic()
    wait_until(
        f"PVCs in {namespace} to bind",
        lambda: claims_not_bound(kube, namespace),
        timeout=120,
        diagnose=diagnose,
    )
    for name in STATEFULSETS:
        wait_until(
            f"statefulset/{name} ready",
            lambda name=name: statefulset_not_ready(kube, namespace, name),  # type: ignore[misc]
            timeout=ROLLOUT_TIMEOUT_SECONDS,
            diagnose=diagnose,
        )
    for name in DEPLOYMENTS:
        wait_until(
            f"deployment/{name} available",
            lambda name=name: deployment_not_ready(kube, namespace, name),  # type: ignore[misc]
            timeout=ROLLOUT_TIMEOUT_SECONDS,
            diagnose=diagnose,
        )
    step(deployment.timings, "rollout ready", started)


def remove_taskflow(deployment: Deployment) -> None:
    deployment.kube.core.delete_namespace(deployment.namespace)


def remove_namespace(kubeconfig: Path, namespace: str) -> None:
    """Delete namespace if it exists (after a deploy that failed half-way); never raises for 404."""
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

    try:
        Kube.from_kubeconfig(kubeconfig).core.delete_namespace(namespace)
        print(f"removed namespace {namespace} after the failed deploy", file=sys.stderr)
    except ApiException as error:
        if error.status != 404:
            print(f"could not remove namespace {namespace}: {error.reason}", file=sys.stderr)
    except UserError as error:
        print(f"could not remove namespace {namespace}: {error}", file=sys.stderr)


def api_server_version(kube: Kube) -> str:
    from kubernetes import client  # noqa: PLC0415

    info = client.VersionApi(kube.api_client).get_code()
    return str(info.git_version)


def ingress_hosts(manifests: list[dict[str, Any]]) -> set[str]:
    return {
        rule["host"]
        for manifest in manifests
        if manifest["kind"] == "Ingress"
        for rule in manifest.get("spec", {}).get("rules", [])
        if rule.get("host")
    }


def ingress_host_holders(kube: Kube, namespace: str, hosts: set[str]) -> dict[str, bool]:
    """Other namespaces with an Ingress for one of hosts -> whether that namespace is terminating."""
    holders: dict[str, bool] = {}
    for ingress in kube.networking.list_ingress_for_all_namespaces().items:
        other = ingress.metadata.namespace
        if other == namespace:
            continue
        if any(rule.host in hosts for rule in ingress.spec.rules or []):
            phase = kube.core.read_namespace(other).status.phase
            holders[other] = phase == "Terminating"
    return holders


def refuse_shared_ingress_host(kube: Kube, namespace: str, manifests: list[dict[str, Any]]) -> None:
    """One Taskflow per ingress host: two would share the host and the ingress would pick either
    certificate and backend. Waits for a namespace that is already going away; refuses a live one."""
    hosts = ingress_hosts(manifests)
    if not hosts:
        return

    def live_holder_or_waiting() -> str | None:
        holders = ingress_host_holders(kube, namespace, hosts)
        live = sorted(name for name, terminating in holders.items() if not terminating)
        if live:
            raise UserError(
                f"namespace {live[0]} (another Taskflow run) already serves ingress host "
                f"{', '.join(sorted(hosts))} on this cluster",
                where="deploy",
                fix=f"wait for that run to end, or remove it: kubectl delete namespace {live[0]}",
            )
        return f"namespaces {', '.join(sorted(holders))} still terminating" if holders else None

    wait_until(
        f"ingress host {', '.join(sorted(hosts))} to be free",
        live_holder_or_waiting,
        timeout=HOST_RELEASE_TIMEOUT_SECONDS,
    )


def redacted(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Manifests safe to keep in a report: Secret values replaced by their length."""
    safe = []
    for manifest in manifests:
        copied = copy.deepcopy(manifest)
        if copied["kind"] == "Secret":
            for key in ("data", "stringData"):
                if key in copied:
                    copied[key] = {name: f"<{len(value)} chars>" for name, value in copied[key].items()}
        safe.append(copied)
    return safe
