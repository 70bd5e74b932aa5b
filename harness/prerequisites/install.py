"""Check a cluster for what the spec needs and install what is missing from the pinned
manifests beside this module, or stop with one line per missing piece.

Installed objects carry the label app.kubernetes.io/managed-by=taskflow-conformance and live in
namespace `taskflow-system` (plus the cluster-scoped objects that name it); `uninstall` removes
exactly what `install` applied.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import yaml
from kubernetes import client

from harness.errors import UserError
from harness.kube import Kube, WaitTimeoutError, wait_until

from . import checks
from .images import (
    ADDON_IMAGES,
    INGRESS_NGINX,
    INGRESS_NGINX_VERSION,
    METRICS_SERVER,
    PROVISIONER,
    TRAEFIK,
    build_addon_image,
)

MANIFESTS = Path(__file__).parent / "manifests"
NAMESPACE = "taskflow-system"
PROVISIONER_NAME = "taskflow-conformance/hostpath"
VOLUMES_ROOT = "/var/lib/taskflow-prerequisites/volumes"
INSTALL_TIMEOUT_SECONDS = 240
TRAEFIK_PING_PORT = 18083

FOUND, INSTALLED, MISSING = "found", "installed", "missing"


@dataclass(frozen=True)
class Options:
    """What the provider allows: installing at all, where images come from, where to listen."""

    install: bool
    ingress_class: str
    images: str = "upstream"
    """`upstream` (the cluster pulls published images) or `local` (built here, then loaded)."""
    listen_address: str = ""
    """Address the ingress controller binds ("" = every address of its pod)."""
    host_network: bool = False
    """Run the ingress controller in the node's network (a node that is this machine) rather than
    behind host ports (kind's node container, whose ports kind maps on to the host)."""
    https_port: int = 443
    http_port: int = 80
    no_install_fix: str = "rerun with --install-prerequisites to let the harness install it"


@dataclass(frozen=True)
class Piece:
    name: str
    check: checks.Check
    manifest: str | None
    """File in manifests/ that installs it; None when the harness cannot."""
    fix: str
    images: tuple[str, ...] = ()


@dataclass
class Result:
    piece: str
    state: str
    detail: str


@dataclass
class Prerequisites:
    """What a run found and installed; `uninstall` takes back what it installed."""

    kube: Kube
    kubernetes_version: str
    results: list[Result]
    applied: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return "; ".join(f"{r.piece}: {r.state} ({r.detail})" for r in self.results)

    def installed(self) -> list[str]:
        return [r.piece for r in self.results if r.state == INSTALLED]

    def uninstall(self) -> None:
        if not self.applied:
            return
        try:
            _wait_for_volumes_released(self.kube)
        except WaitTimeoutError as error:
            # a deploy that failed half-way leaves its claims; removing the rest still matters
            print(f"prerequisites: {error}; removing the provisioner anyway", file=sys.stderr)
        for manifest in sorted(self.applied, key=_removal_rank):
            _delete(self.kube, manifest)
        # gone, not just deleting: a controller on host ports or the node's network must have
        # let go of them before anything else (the embedded cluster's own add-ons) binds them
        for namespace in [m["metadata"]["name"] for m in self.applied if m["kind"] == "Namespace"]:
            wait_until(
                f"namespace {namespace} to be gone",
                lambda namespace=namespace: _namespace_present(self.kube, namespace),  # type: ignore[misc]
                timeout=INSTALL_TIMEOUT_SECONDS,
            )
        print(f"prerequisites: removed {', '.join(self.installed())}", file=sys.stderr)


# The ingress controllers the harness can install, by the IngressClass they serve.
INGRESS_CONTROLLERS = {"traefik": ("traefik.yaml", TRAEFIK), "nginx": ("ingress-nginx.yaml", INGRESS_NGINX)}


def pieces(ingress_class: str) -> list[Piece]:
    controller_manifest, controller_image = INGRESS_CONTROLLERS.get(ingress_class, (None, ""))
    return [
        Piece(
            "DNS",
            checks.dns_missing,
            None,
            "run CoreDNS as Service kube-system/kube-dns (every Kubernetes distribution ships it)",
        ),
        Piece(
            f"ingress controller (IngressClass {ingress_class})",
            checks.ingress_class_missing(ingress_class),
            controller_manifest,
            f"install an ingress controller serving IngressClass {ingress_class!r}",
            (controller_image,) if controller_image else (),
        ),
        Piece(
            "metrics API",
            checks.metrics_api_missing,
            "metrics-server.yaml",
            "install metrics-server (https://github.com/kubernetes-sigs/metrics-server)",
            (METRICS_SERVER,),
        ),
        Piece(
            "default StorageClass",
            checks.default_storage_class_missing,
            "hostpath-provisioner.yaml",
            "mark a StorageClass with dynamic provisioning as default",
            (PROVISIONER,),
        ),
    ]


def ensure_prerequisites(
    kube: Kube,
    options: Options,
    load_archives: Callable[[list[Path]], None],
    reference_of: Callable[[str], str] = str,
) -> Prerequisites:
    """Check every piece; install the missing ones when allowed; raise with one line each if not."""
    started = time.monotonic()
    version = checks.require_reachable(kube)
    results: list[Result] = []
    missing: list[tuple[Piece, str]] = []
    for piece in pieces(options.ingress_class):
        reason = piece.check(kube)
        if reason is None:
            results.append(Result(piece.name, FOUND, _found_detail(kube, piece)))
        else:
            missing.append((piece, reason))
    blocked = [
        f"{piece.name}: {reason} (fix: {_fix(piece, options)})"
        for piece, reason in missing
        if not options.install or piece.manifest is None or _image_unavailable(piece, options)
    ]
    if blocked:
        raise UserError("the cluster lacks what the spec needs:\n  " + "\n  ".join(blocked))
    prerequisites = Prerequisites(kube, version, results)
    if missing:
        _install([piece for piece, _ in missing], options, (load_archives, reference_of), prerequisites)
    prerequisites.seconds = round(time.monotonic() - started, 1)
    return prerequisites


def _found_detail(kube: Kube, piece: Piece) -> str:
    if piece.name == "default StorageClass":
        return f"StorageClass {checks.default_storage_class(kube)}"
    return "already in the cluster"


def _fix(piece: Piece, options: Options) -> str:
    if piece.manifest is None:
        return piece.fix
    if _image_unavailable(piece, options):
        if options.images == "local":
            return f"{piece.fix} (its image cannot be built here; the cluster must pull it)"
        return f"{piece.fix}, or build its image here: --images-present after loading it, or --image-registry"
    if not options.install:
        return f"{piece.fix}, or {options.no_install_fix}"
    return piece.fix


def _image_unavailable(piece: Piece, options: Options) -> bool:
    images = [ADDON_IMAGES[name] for name in piece.images]
    if options.images == "local":
        return any(image.local is None for image in images)
    return any(image.upstream is None for image in images)


def render(manifest: str, options: Options, images: dict[str, str]) -> list[dict[str, Any]]:
    """The objects of one manifest file with its `${VAR}`s filled in."""
    values = {
        "NAMESPACE": NAMESPACE,
        "TRAEFIK_VERSION": str(ADDON_IMAGES[TRAEFIK].upstream).rsplit(":", 1)[1],
        "METRICS_SERVER_VERSION": str(ADDON_IMAGES[METRICS_SERVER].upstream).rsplit(":", 1)[1],
        "INGRESS_NGINX_VERSION": INGRESS_NGINX_VERSION,
        "INGRESS_NGINX_IMAGE": images.get(INGRESS_NGINX, ""),
        "TRAEFIK_IMAGE": images.get(TRAEFIK, ""),
        "METRICS_SERVER_IMAGE": images.get(METRICS_SERVER, ""),
        "PROVISIONER_IMAGE": images.get(PROVISIONER, ""),
        "LISTEN_ADDRESS": options.listen_address,
        "HOST_NETWORK": "true" if options.host_network else "false",
        "DNS_POLICY": "ClusterFirstWithHostNet" if options.host_network else "ClusterFirst",
        # in the node's network, the ping port stays on loopback and the kubelet probes it there
        "PING_ADDRESS": "127.0.0.1" if options.host_network else "",
        "PROBE_HOST": "127.0.0.1" if options.host_network else "",
        "HTTPS_PORT": str(options.https_port),
        "HTTP_PORT": str(options.http_port),
        "PING_PORT": str(TRAEFIK_PING_PORT),
        "PROVISIONER_NAME": PROVISIONER_NAME,
        "VOLUMES_ROOT": VOLUMES_ROOT,
    }
    text = Template((MANIFESTS / manifest).read_text()).substitute(values)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _install(
    missing: list[Piece],
    options: Options,
    images_to_nodes: tuple[Callable[[list[Path]], None], Callable[[str], str]],
    prerequisites: Prerequisites,
) -> None:
    kube = prerequisites.kube
    names = [name for piece in missing for name in piece.images]
    images = _image_references(names, options, *images_to_nodes)
    objects = render("namespace.yaml", options, images)
    for piece in missing:
        assert piece.manifest is not None  # ensured by ensure_prerequisites
        objects += render(piece.manifest, options, images)
    # The APIService goes last, once metrics-server answers: an unavailable aggregated API
    # breaks discovery for every client.
    api_services = [o for o in objects if o["kind"] == "APIService"]
    rest = [o for o in objects if o["kind"] != "APIService"]
    print(f"prerequisites: installing {', '.join(p.name for p in missing)}", file=sys.stderr)
    prerequisites.applied = rest + api_services
    # who may do what before the controllers that need it start (apply_all ranks only app kinds)
    first = [
        o for o in rest if o["kind"] in ("Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass")
    ]
    kube.apply_all(first)
    kube.apply_all([o for o in rest if o not in first])
    for deployment in [o for o in rest if o["kind"] == "Deployment"]:
        wait_for_deployment(kube, deployment)
    kube.apply_all(api_services)
    for piece in missing:
        wait_until(
            f"{piece.name} to work",
            lambda piece=piece: piece.check(kube),  # type: ignore[misc]
            timeout=INSTALL_TIMEOUT_SECONDS,
        )
        shown = ", ".join(images[name] for name in piece.images)
        prerequisites.results.append(Result(piece.name, INSTALLED, shown))


def _image_references(
    names: list[str],
    options: Options,
    load_archives: Callable[[list[Path]], None],
    reference_of: Callable[[str], str],
) -> dict[str, str]:
    if options.images != "local":
        return {name: str(ADDON_IMAGES[name].upstream) for name in names}
    archives = [build_addon_image(name) for name in names]
    load_archives(archives)
    return {name: reference_of(str(ADDON_IMAGES[name].local)) for name in names}


PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName")


def wait_for_deployment(kube: Kube, manifest: dict[str, Any]) -> None:
    name, namespace = manifest["metadata"]["name"], manifest["metadata"]["namespace"]
    labels = manifest["spec"]["selector"]["matchLabels"]
    selector = ",".join(f"{key}={value}" for key, value in labels.items())

    def not_ready() -> str | None:
        deployment = kube.apps.read_namespaced_deployment(name, namespace)
        for pod in kube.core.list_namespaced_pod(namespace, label_selector=selector).items:
            for status in pod.status.container_statuses or []:
                waiting = status.state.waiting if status.state else None
                if waiting is not None and waiting.reason in PULL_FAILURES:
                    raise UserError(
                        f"image {status.image} cannot be pulled by the cluster ({waiting.reason})",
                        where=f"{namespace}/{name}",
                        fix="load it into the nodes (--images-present after loading) or pass"
                        " --image-registry REGISTRY the nodes can pull from",
                    )
        available = deployment.status.available_replicas or 0
        return None if available >= 1 else f"{available} of 1 replicas available"

    wait_until(f"deployment {namespace}/{name} available", not_ready, timeout=INSTALL_TIMEOUT_SECONDS)


MANAGED_BY = ("app.kubernetes.io/managed-by", "taskflow-conformance")


def leftovers(kube: Kube) -> list[dict[str, Any]]:
    """Objects of the pinned manifests that an earlier run installed and never took back (killed
    before its teardown): those whose live copy carries our managed-by label. Objects inside our
    namespaces carry none; they go with their namespace."""
    options = Options(install=True, ingress_class="")
    found = []
    for manifest in sorted(path.name for path in MANIFESTS.glob("*.yaml")):
        for wanted in render(manifest, options, {}):
            labels = _live_labels(kube, wanted)
            if labels is not None and labels.get(MANAGED_BY[0]) == MANAGED_BY[1]:
                found.append(wanted)
    return found


def remove_leftovers(kube: Kube) -> list[str]:
    """Delete `leftovers` (the APIService first, namespaces last, waiting until they are gone);
    returns what was removed, as kind/name."""
    found = sorted(leftovers(kube), key=_removal_rank)
    for manifest in found:
        _delete(kube, manifest)
    for namespace in [m["metadata"]["name"] for m in found if m["kind"] == "Namespace"]:
        wait_until(
            f"namespace {namespace} to be gone",
            lambda namespace=namespace: _namespace_present(kube, namespace),  # type: ignore[misc]
            timeout=INSTALL_TIMEOUT_SECONDS,
        )
    return [f"{m['kind']}/{m['metadata']['name']}" for m in found]


def _live_labels(kube: Kube, manifest: dict[str, Any]) -> dict[str, str] | None:
    """The labels of the object `manifest` names as the cluster has it; None when it is absent."""
    resource = kube.dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    metadata = manifest["metadata"]
    try:
        live = resource.get(name=metadata["name"], namespace=metadata.get("namespace"))
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise
    except Exception as error:  # the dynamic client raises its own NotFoundError
        if "NotFound" in type(error).__name__:
            return None
        raise
    return dict(live.metadata.labels or {})


# Removal order: the APIService first (discovery), the namespace last.
_REMOVAL_ORDER = ["APIService", "StorageClass", "IngressClass", "Deployment", "Namespace"]


def _removal_rank(manifest: dict[str, Any]) -> int:
    kind = manifest["kind"]
    return _REMOVAL_ORDER.index(kind) if kind in _REMOVAL_ORDER else _REMOVAL_ORDER.index("Namespace") - 1


def _delete(kube: Kube, manifest: dict[str, Any]) -> None:
    resource = kube.dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    metadata = manifest["metadata"]
    try:
        resource.delete(name=metadata["name"], namespace=metadata.get("namespace"))
    except client.ApiException as error:
        if error.status != 404:
            raise
    except Exception as error:  # the dynamic client raises its own NotFoundError
        if "NotFound" not in type(error).__name__:
            raise


def _namespace_present(kube: Kube, namespace: str) -> str | None:
    try:
        found = kube.core.read_namespace(namespace)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise
    return f"{namespace} is {found.status.phase if found.status else 'present'}"


def _wait_for_volumes_released(kube: Kube, timeout: float = 120) -> None:
    """Volumes our provisioner made must be deleted by it before it goes."""

    def ours() -> str | None:
        volumes = [
            pv.metadata.name
            for pv in kube.core.list_persistent_volume().items
            if (pv.metadata.annotations or {}).get("pv.kubernetes.io/provisioned-by") == PROVISIONER_NAME
        ]
        return f"volumes still present: {', '.join(volumes)}" if volumes else None

    wait_until("volumes of the harness's provisioner to be released", ours, timeout=timeout)
