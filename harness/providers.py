"""Where the cluster comes from: one small interface, one class per kind of cluster.

`auto` picks kind where Docker and kind work, else the embedded `local` cluster on a Linux host
where it can run; it never picks a user's current kube context by itself.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.deployment import INGRESS_HTTPS_PORT, IngressEndpoint
from harness.errors import UserError
from harness.prerequisites import Options as PrerequisiteOptions

PROVIDER_NAMES = ("auto", "local", "kind", "minikube", "k3d", "k3s", "external")
__all__ = ["INGRESS_HTTPS_PORT", "PROVIDER_NAMES", "IngressEndpoint", "Provider", "make_provider"]
# The kind the nightly workflow installs (.github/workflows/nightly.yml; a test keeps them equal).
KIND_VERSION = "v0.30.0"
INSTALL_HINTS = {
    "kind": f"install kind (`go install sigs.k8s.io/kind@{KIND_VERSION}`) and Docker,"
    " or use --provider local",
    "k3d": "install k3d (https://k3d.io) and a Docker engine, or use --provider local",
    "minikube": "install minikube (https://minikube.sigs.k8s.io), or use --provider local",
}
# kind and k3d run their nodes as containers of a Docker engine; minikube brings its own driver.
NEEDS_DOCKER = ("kind", "k3d")


class Provider(Protocol):
    name: str
    overlay: str

    def ensure_up(self) -> Path:
        """Make sure the cluster runs; return its kubeconfig."""
        ...

    def load_archives(self, archives: list[Path]) -> None:
        """Make image archives (docker-archive tars) available to the cluster's runtime."""
        ...

    def ingress(self) -> IngressEndpoint: ...

    def image_reference(self, built: str) -> str:
        """Where the cluster's nodes find the image built here as `built`."""
        ...

    def prerequisite_options(self, ingress_class: str) -> PrerequisiteOptions:
        """May the harness install missing cluster prerequisites here, and how."""
        ...

    def teardown(self) -> None:
        """Remove the cluster if this provider created it; leave anything else alone."""
        ...


@dataclass
class LocalProvider:
    """The embedded single-node cluster of cluster/ (host processes, no Docker).

    Holds a lease on the cluster from ensure_up to teardown, so a `down` elsewhere waits for
    this run instead of pulling the cluster from under it.
    """

    name: str = "local"
    overlay: str = "local"
    _lease: ExitStack = field(default_factory=ExitStack, init=False)

    def ensure_up(self) -> Path:
        from harness.cluster import Layout, up, using  # noqa: PLC0415 - needs root-only modules

        layout = Layout.default()
        self._lease.enter_context(using(layout, "a conformance run"))
        return up(layout)

    def load_archives(self, archives: list[Path]) -> None:
        from harness.images import load_archive  # noqa: PLC0415

        for archive in archives:
            load_archive("local", archive)

    def ingress(self) -> IngressEndpoint:
        return IngressEndpoint("127.0.0.1", INGRESS_HTTPS_PORT)

    def image_reference(self, built: str) -> str:
        return built

    def prerequisite_options(self, ingress_class: str) -> PrerequisiteOptions:
        # `up` starts every add-on; a missing one means the cluster is degraded, not bare.
        return PrerequisiteOptions(
            install=False,
            ingress_class=ingress_class,
            no_install_fix="run `nox -s cluster -- up` (it starts the add-ons)",
        )

    def teardown(self) -> None:
        # The cluster itself stays: a warm `up` takes seconds, and `nox -s cluster -- down`
        # removes it. Only this run's lease ends.
        self._lease.close()


@dataclass
class PytestKubernetesProvider:
    """kind, minikube or k3d through pytest-kubernetes' cluster managers."""

    name: str
    overlay: str
    cluster_name: str = "taskflow"
    provider_config: Path | None = None
    prerequisite_images: str = "upstream"
    _manager: object | None = field(default=None, init=False)

    def _cluster_manager(self) -> Any:
        from pytest_kubernetes.providers import select_provider_manager  # noqa: PLC0415

        if self._manager is None:
            if shutil.which(self.name) is None:
                raise UserError(
                    f"{self.name} is not on PATH",
                    where=f"--provider {self.name}",
                    fix=INSTALL_HINTS[self.name],
                )
            manager_class = select_provider_manager(self.name)
            config = self.provider_config or self._default_config()
            self._manager = manager_class(self.cluster_name, str(config) if config else None)
        return self._manager

    def _default_config(self) -> Path | None:
        from harness import provider_configs  # noqa: PLC0415

        directory = (
            Path(os.environ.get("TASKFLOW_CACHE") or Path.home() / ".cache" / "taskflow") / "providers"
        )
        if self.name == "kind":
            node_image = os.environ.get("TASKFLOW_KIND_NODE_IMAGE") or None
            return provider_configs.write_config(
                provider_configs.kind_config(self.cluster_name, node_image), directory
            )
        if self.name == "k3d":
            return provider_configs.write_config(provider_configs.k3d_config(self.cluster_name), directory)
        return None

    def ensure_up(self) -> Path:
        manager = self._cluster_manager()
        manager.create()
        if manager.kubeconfig is None:
            raise UserError(f"{self.name} created no kubeconfig", fix=f"check `{self.name}` works on its own")
        if self.name == "minikube":
            from harness import provider_configs  # noqa: PLC0415

            for command in provider_configs.minikube_addon_commands(manager.cluster_name):
                subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
        return Path(manager.kubeconfig)

    def load_archives(self, archives: list[Path]) -> None:
        from harness.images import load_archive  # noqa: PLC0415

        for archive in archives:
            load_archive(self.name, archive, cluster_name=self._cluster_manager().cluster_name)

    def ingress(self) -> IngressEndpoint:
        if self.name == "minikube":
            address = subprocess.run(
                ["minikube", "ip", "-p", self._cluster_manager().cluster_name],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            return IngressEndpoint(address)
        # kind and k3d map the ingress controller's 443 to the host (see manifests/overlays/kind).
        return IngressEndpoint("127.0.0.1")

    def image_reference(self, built: str) -> str:
        return built

    def prerequisite_options(self, ingress_class: str) -> PrerequisiteOptions:
        # The node is a container (kind, k3d) or a VM (minikube): host ports, mapped on by the tool.
        return PrerequisiteOptions(install=True, ingress_class=ingress_class, images=self.prerequisite_images)

    def teardown(self) -> None:
        self._cluster_manager().delete()


@dataclass
class ExternalProvider:
    """A cluster someone else runs, named by an explicit kubeconfig; never created or deleted."""

    kubeconfig_path: Path
    ingress_address: str
    overlay: str = "kind"
    name: str = "external"
    install_prerequisites: bool = False
    images_present: bool = False
    image_registry: str | None = None

    def ensure_up(self) -> Path:
        if not self.kubeconfig_path.is_file():
            raise UserError(
                "kubeconfig not found",
                where=str(self.kubeconfig_path),
                fix="pass --kubeconfig PATH to a readable kubeconfig file",
            )
        return self.kubeconfig_path

    def load_archives(self, archives: list[Path]) -> None:
        # An external cluster pulls: from --image-registry (pushed here), else it already has them.
        if self.image_registry is None:
            return
        from harness.images.load import archive_reference  # noqa: PLC0415
        from harness.registry import push  # noqa: PLC0415

        for archive in archives:
            push(archive, self.image_reference(archive_reference(archive)))

    def image_reference(self, built: str) -> str:
        if self.image_registry is None:
            return built
        from harness.registry import registry_reference  # noqa: PLC0415

        return registry_reference(self.image_registry, built)

    def ingress(self) -> IngressEndpoint:
        return IngressEndpoint(self.ingress_address)

    def prerequisite_options(self, ingress_class: str) -> PrerequisiteOptions:
        # An ingress reached on loopback runs on this very machine: bind only there.
        loopback = self.ingress_address.startswith("127.")
        return PrerequisiteOptions(
            install=self.install_prerequisites,
            ingress_class=ingress_class,
            images="local" if self.images_present or self.image_registry else "upstream",
            listen_address=self.ingress_address if loopback else "",
            host_network=loopback,
        )

    def teardown(self) -> None:
        return None


def docker_engine_works() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    return probe.returncode == 0


def local_cluster_can_run() -> str | None:
    """None when the embedded cluster can run here, else the reason it cannot."""
    if platform.system() != "Linux":
        return f"the embedded cluster needs Linux, this is {platform.system()}"
    if os.geteuid() != 0:
        return "the embedded cluster needs root (it runs containerd, the kubelet and iptables)"
    return None


def missing_tool(name: str) -> UserError | None:
    """What to install before `--provider NAME` can start (kind, k3d, minikube), else None.

    Checked when the run starts, before any image is built or anything deployed.
    """
    if name not in INSTALL_HINTS:
        return None
    where = f"--provider {name}"
    if shutil.which(name) is None:
        return UserError(f"{name} is not on PATH", where=where, fix=INSTALL_HINTS[name])
    if name in NEEDS_DOCKER and not docker_engine_works():
        return UserError(
            f"{name} runs its nodes in Docker, and no Docker engine answers `docker info`",
            where=where,
            fix="install Docker and start it (or add yourself to the docker group), or use --provider local",
        )
    return None


def choose_provider_name(requested: str) -> str:
    if requested not in PROVIDER_NAMES:
        raise UserError(
            f"unknown provider {requested!r}",
            where="--provider",
            fix=f"use one of: {', '.join(PROVIDER_NAMES)}",
        )
    if requested != "auto":
        return requested
    if shutil.which("kind") and docker_engine_works():
        return "kind"
    reason = local_cluster_can_run()
    if reason is None:
        return "local"
    raise UserError(
        f"no cluster provider can run here: no kind with a working Docker engine, and {reason}",
        where="--provider auto",
        fix="install kind and Docker, run as root on Linux for `local`, or pass --provider external"
        " --kubeconfig PATH",
    )


def make_provider(
    requested: str,
    *,
    kubeconfig: Path | None = None,
    ingress_address: str = "127.0.0.1",
    overlay: str | None = None,
    install_prerequisites: bool = False,
    images_present: bool = False,
    image_registry: str | None = None,
) -> Provider:
    name = choose_provider_name(requested)
    if name == "external":
        if kubeconfig is None:
            raise UserError(
                "the external provider needs a kubeconfig",
                where="--provider external",
                fix="add --kubeconfig PATH (the harness never uses your current context by itself)",
            )
        return ExternalProvider(
            kubeconfig,
            ingress_address,
            overlay=overlay or "kind",
            install_prerequisites=install_prerequisites,
            images_present=images_present,
            image_registry=image_registry,
        )
    if overlay is not None:
        raise UserError(
            f"--overlay only goes with --provider external, not {name} (it has an overlay of its own)",
            where="--overlay",
            fix="drop --overlay, or use --provider external",
        )
    if kubeconfig is not None:
        raise UserError(
            f"--kubeconfig only goes with --provider external, not {name}",
            where="--kubeconfig",
            fix="drop --kubeconfig, or use --provider external",
        )
    if name == "local":
        return LocalProvider()
    if name == "k3s":
        from harness.k3s_provider import K3sProvider  # noqa: PLC0415 - testcontainers only here

        return K3sProvider()
    overlay = "minikube" if name == "minikube" else "kind"
    return PytestKubernetesProvider(name=name, overlay=overlay)
