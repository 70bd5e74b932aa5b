"""`--provider k3s`: k3s in one container through testcontainers' K3SContainer, on any Docker
engine (a user's, or harness.docker's) whose host can pull the k3s image.

k3s's own Traefik is off (K3SContainer's default); the harness installs the controller the kind
overlay names behind host ports, and the container publishes 443 on loopback.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.deployment import IngressEndpoint
from harness.errors import UserError
from harness.prerequisites import Options as PrerequisiteOptions
from harness.provider_configs import INGRESS_NODE_LABEL

K3S_IMAGE = "rancher/k3s:v1.34.4-k3s1"
HTTPS_PORT = 443


def docker_host() -> str | None:
    """Where a Docker engine should answer, or None when nothing says there is one."""
    configured = os.environ.get("DOCKER_HOST")
    if configured:
        return configured
    return "unix:///var/run/docker.sock" if Path("/var/run/docker.sock").exists() else None


def k3s_command(host_ip: str) -> str:
    return f"server --disable traefik --tls-san={host_ip} --node-label={INGRESS_NODE_LABEL}"


@dataclass
class K3sProvider:
    name: str = "k3s"
    overlay: str = "kind"
    image: str = K3S_IMAGE
    _container: Any = field(default=None, init=False)
    _kubeconfig_dir: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False)

    def ensure_up(self) -> Path:
        if docker_host() is None:
            raise UserError(
                "the k3s provider needs a Docker engine and none is configured",
                where="--provider k3s",
                fix="start Docker (or set DOCKER_HOST), or use --provider local",
            )
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        from docker.errors import DockerException  # noqa: PLC0415
        from testcontainers.k3s import K3SContainer  # noqa: PLC0415

        container = K3SContainer(self.image)
        container.with_command(k3s_command(container.get_container_host_ip()))
        # docker-py takes (address, port) to bind one address only; with_bind_ports takes no address
        container.ports[str(HTTPS_PORT)] = ("127.0.0.1", HTTPS_PORT)  # type: ignore[assignment]
        try:
            container.start()
        except DockerException as error:
            raise UserError(
                f"k3s did not start: {str(error).splitlines()[0][:200]}",
                where=f"--provider k3s ({self.image})",
                fix="the host must be able to pull the k3s image; otherwise use --provider local",
            ) from None
        self._container = container
        self._kubeconfig_dir = tempfile.TemporaryDirectory(prefix="taskflow-k3s-")
        path = Path(self._kubeconfig_dir.name) / "kubeconfig"
        path.write_text(container.config_yaml(), encoding="utf-8")
        return path

    def load_archives(self, archives: list[Path]) -> None:
        container_id = self._container.get_wrapped_container().id
        for archive in archives:
            with archive.open("rb") as stream:
                subprocess.run(
                    ["docker", "exec", "-i", container_id, "ctr", "-n", "k8s.io", "images", "import", "-"],
                    stdin=stream,
                    check=True,
                    capture_output=True,
                    timeout=600,
                )

    def image_reference(self, built: str) -> str:
        return built

    def ingress(self) -> IngressEndpoint:
        return IngressEndpoint("127.0.0.1", HTTPS_PORT)

    def prerequisite_options(self, ingress_class: str) -> PrerequisiteOptions:
        return PrerequisiteOptions(install=True, ingress_class=ingress_class)

    def teardown(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None
        if self._kubeconfig_dir is not None:
            self._kubeconfig_dir.cleanup()
