"""Put an image archive where a provider's nodes find it, since no registry is there to pull from."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.errors import UserError

from .paths import ImagePaths
from .run import run_logged

PROVIDERS = ("local", "kind", "k3d", "minikube")


def load_archive(provider: str, archive: Path, *, cluster_name: str | None = None) -> None:
    """Load one docker-archive tar into the cluster of `provider`.

    cluster_name: the kind/k3d cluster name or the minikube profile (their defaults when None).
    """
    if not archive.is_file():
        raise UserError(
            f"image archive {archive} does not exist", fix="build it with `python -m harness.images build`"
        )
    log = ImagePaths.default().logs / f"load-{provider}.log"
    if provider == "local":
        _load_local(archive)
    elif provider == "kind":
        _require("kind", "install kind (https://kind.sigs.k8s.io) or use --provider local")
        name = ["--name", cluster_name] if cluster_name else []
        run_logged(
            ["kind", "load", "image-archive", str(archive), *name], what=f"kind load {archive.name}", log=log
        )
    elif provider == "k3d":
        _require("k3d", "install k3d or use --provider local")
        name = ["--cluster", cluster_name] if cluster_name else []
        run_logged(
            ["k3d", "image", "import", str(archive), *name], what=f"k3d image import {archive.name}", log=log
        )
    elif provider == "minikube":
        _require("minikube", "install minikube or use --provider local")
        profile = ["--profile", cluster_name] if cluster_name else []
        run_logged(
            ["minikube", "image", "load", str(archive), *profile],
            what=f"minikube image load {archive.name}",
            log=log,
        )
    else:
        raise UserError(
            f"cannot load images into provider {provider!r}", fix=f"use one of {', '.join(PROVIDERS)}"
        )


def _require(tool: str, fix: str) -> None:
    if shutil.which(tool) is None:
        raise UserError(f"{tool} is not on PATH", fix=fix)


def _load_local(archive: Path) -> None:
    """containerd import through the embedded cluster's own code (its socket, its namespace)."""
    from harness.cluster.context import Context  # noqa: PLC0415 - only the local provider needs it
    from harness.cluster.errors import ClusterError  # noqa: PLC0415
    from harness.cluster.lifecycle import require_up  # noqa: PLC0415
    from harness.cluster.paths import Layout  # noqa: PLC0415

    layout = Layout.default()
    try:
        require_up(layout)
        Context(layout).load_image(archive.resolve())
    except ClusterError as error:
        raise UserError(error.cause, fix=error.fix or None) from error
