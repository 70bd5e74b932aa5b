"""Dynamic volumes: our hostpath provisioner (a host process) and the default StorageClass."""

from __future__ import annotations

from pathlib import Path

from ..build import ensure_built
from ..component import Component
from ..configs import NODE_NAME
from ..context import Context
from ..paths import Layout
from ..probes import http_ok
from . import builds, identity, manifests, process, settings

NAME = "hostpath-provisioner"


def volumes_root(layout: Layout) -> Path:
    """Volumes live and die with the cluster: `down` removes the state dir, etcd's PVs with it."""
    return layout.state / "volumes"


def start(ctx: Context) -> None:
    binary = ensure_built(builds.PROVISIONER, ctx.layout) / "hostpath-provisioner"
    kubeconfig = identity.kubeconfig(ctx, NAME)
    manifests.apply(
        ctx,
        "hostpath-provisioner/storage.yaml",
        USER=identity.user_name(NAME),
        STORAGE_CLASS=settings.STORAGE_CLASS,
        PROVISIONER=settings.PROVISIONER_NAME,
    )
    port = settings.PROVISIONER_METRICS_PORT
    process.start(
        ctx,
        Component(
            name=NAME,
            argv=[
                str(binary),
                f"--kubeconfig={kubeconfig}",
                f"--root={volumes_root(ctx.layout)}",
                f"--node-name={NODE_NAME}",
                f"--provisioner-name={settings.PROVISIONER_NAME}",
                f"--metrics-port={port}",
            ],
            ready=http_ok(f"http://127.0.0.1:{port}/metrics"),
            ready_timeout=30,
            fix_hint=f"port {port} on 127.0.0.1 must be free; see the log",
        ),
    )
