"""Put an image archive where a provider's nodes find it, since no registry is there to pull from."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

from harness.errors import UserError

from .paths import ImagePaths
from .run import capture, run_logged, say

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


def archive_reference(archive: Path) -> str:
    """The name a docker-archive tags its image with (manifest.json's first RepoTag)."""
    with tarfile.open(archive) as tar:
        manifest = tar.extractfile("manifest.json")
        if manifest is None:
            raise UserError(f"{archive} is not a docker-archive (no manifest.json)")
        tags: list[str] = json.load(manifest)[0].get("RepoTags") or []
    if not tags:
        raise UserError(f"{archive} names no image (manifest.json has no RepoTags)")
    return tags[0]


def _containerd_digest(socket: Path, reference: str) -> str | None:
    proc = capture(["ctr", "--address", str(socket), "-n", "k8s.io", "images", "ls", f"name=={reference}"])
    rows = [line.split() for line in proc.stdout.splitlines()[1:] if line.strip()]
    return rows[0][2] if proc.returncode == 0 and rows and len(rows[0]) > 2 else None


def _load_local(archive: Path) -> None:
    """containerd import through the embedded cluster's own code (its socket, its namespace).

    Skipped when containerd already holds the image this archive produced last time: a warm
    deploy then loads nothing (the import is content-addressed, so equal digests mean equal images).
    """
    from harness.cluster.context import Context  # noqa: PLC0415 - only the local provider needs it
    from harness.cluster.errors import ClusterError  # noqa: PLC0415
    from harness.cluster.lifecycle import require_up  # noqa: PLC0415
    from harness.cluster.paths import Layout  # noqa: PLC0415

    layout = Layout.default()
    record = archive.with_suffix(".local-digest")
    try:
        require_up(layout)
        reference = archive_reference(archive)
        current = _containerd_digest(layout.containerd_socket, reference)
        if current is not None and record.is_file() and record.read_text().strip() == current:
            say(f"{reference} is already in the local cluster")
            return
        Context(layout).load_image(archive.resolve())
    except ClusterError as error:
        raise UserError(error.cause, fix=error.fix or None) from error
    loaded = _containerd_digest(layout.containerd_socket, reference)
    if loaded is not None:
        record.write_text(loaded + "\n")
