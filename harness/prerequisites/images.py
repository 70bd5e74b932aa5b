"""Images of the add-ons the harness installs: upstream references, or built here.

A cluster that can pull from the internet uses the upstream images. A host without a registry
builds the same versions from the Go module proxy (the embedded cluster's pinned add-on modules,
cluster/addons/) into one-binary scratch images; the provider's own loader, `--images-present`
or `--image-registry` gets them to the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.cluster.addons import builds, settings

TRAEFIK = "traefik"
METRICS_SERVER = "metrics-server"
PROVISIONER = "hostpath-provisioner"
INGRESS_NGINX = "ingress-nginx"
INGRESS_NGINX_VERSION = "v1.12.1"


@dataclass(frozen=True)
class AddonImage:
    name: str
    upstream: str | None
    """The published image of the same version, or None when there is none (our provisioner)."""
    local: str | None
    """The reference of the image built here, or None when it cannot be (nginx is no Go module)."""


ADDON_IMAGES = {
    TRAEFIK: AddonImage(
        TRAEFIK,
        f"docker.io/library/traefik:{settings.TRAEFIK_VERSION}",
        f"localhost/taskflow/traefik:{settings.TRAEFIK_VERSION}",
    ),
    METRICS_SERVER: AddonImage(
        METRICS_SERVER,
        f"registry.k8s.io/metrics-server/metrics-server:{settings.METRICS_SERVER_VERSION}",
        f"localhost/taskflow/metrics-server:{settings.METRICS_SERVER_VERSION}",
    ),
    PROVISIONER: AddonImage(
        PROVISIONER, None, f"localhost/taskflow/hostpath-provisioner:{builds.PROVISIONER.version}"
    ),
    INGRESS_NGINX: AddonImage(
        INGRESS_NGINX, f"registry.k8s.io/ingress-nginx/controller:{INGRESS_NGINX_VERSION}", None
    ),
}
_BUILDS = {TRAEFIK: builds.TRAEFIK, METRICS_SERVER: builds.METRICS_SERVER, PROVISIONER: builds.PROVISIONER}


def build_addon_image(name: str) -> Path:
    """The docker-archive of add-on `name` built from its pinned Go module, cached under the
    build's own key (version and inputs digest), so a rebuilt binary of the same version never
    meets the image of the previous one."""
    from harness.cluster.build import ensure_built  # noqa: PLC0415 - Go builds only when asked
    from harness.cluster.images import scratch_image  # noqa: PLC0415
    from harness.cluster.paths import Layout  # noqa: PLC0415

    layout = Layout.default()
    reference = ADDON_IMAGES[name].local
    if reference is None:
        raise ValueError(f"{name} has no local build")
    build = _BUILDS[name]
    archive = layout.images / f"prerequisite-{build.cache_key}.tar"
    if not archive.exists():
        binary = ensure_built(build, layout) / name
        scratch_image(reference, {name: binary}, entrypoint=[f"/{name}"], out=archive)
    return archive


def buildable() -> list[str]:
    return [name for name, image in ADDON_IMAGES.items() if image.local is not None]
