"""The add-ons of the embedded cluster, run by `up` after the core (cluster/README.md, "Add-ons").

Each is a host process supervised by the core (started with `ctx.start`, stopped by `down`
by PID), built from its pinned Go module under cluster/addons/.
"""

from __future__ import annotations

from ..actions import Action
from ..build import ensure_built
from ..context import Context
from ..preflight import require_free_ports
from . import available, bare_mode, builds, coredns, ingress, metrics_server, settings, storage


def _free_ports(ctx: Context) -> None:
    # listeners of our own recorded PIDs (a running cluster) are not clashes
    require_free_ports(ctx.layout, ctx.net, ports=settings.tcp_ports())


def _build_all(ctx: Context) -> None:
    for build in builds.ADDON_BUILDS:
        out = ensure_built(build, ctx.layout)
        ctx.binaries.update({binary: out / binary for binary in build.packages})


def _dns_available(ctx: Context) -> None:
    ctx.wait_for("cluster DNS", available.dns_check(ctx), timeout=120)


def actions(bare: bool = False) -> list[Action]:
    if bare:
        return [
            Action("bare: remove ingress, metrics and storage add-ons", bare_mode.remove_addons),
            Action("cluster DNS (CoreDNS)", coredns.start),
            Action("cluster DNS available", _dns_available),
        ]
    return [
        Action("add-on ports", _free_ports),
        Action("add-on binaries", _build_all),
        # first: its first scrape (10 s after start) is what "add-ons available" waits for longest
        Action("metrics-server", metrics_server.start),
        Action("cluster DNS (CoreDNS)", coredns.start),
        Action("storage provisioner", storage.start),
        Action("ingress controller (Traefik)", ingress.start),
        Action("add-ons available", available.wait_all),
    ]
