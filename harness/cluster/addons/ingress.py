"""Ingress with TLS: Traefik as a host process on loopback, the default IngressClass `traefik`."""

from __future__ import annotations

from ..build import ensure_built
from ..component import Component
from ..context import Context
from ..probes import http_ok
from . import builds, identity, manifests, process, settings

NAME = "traefik"


def http_entrypoint(port: int) -> str:
    if port == 0:
        return ""
    return f'  web:\n    address: "{settings.INGRESS_LISTEN_IP}:{port}"\n'


def start(ctx: Context) -> None:
    binary = ensure_built(builds.TRAEFIK, ctx.layout) / "traefik"
    kubeconfig = identity.kubeconfig(ctx, NAME)
    https, http = settings.ingress_https_port(), settings.ingress_http_port()
    config = manifests.write_config(
        ctx,
        "traefik.yaml",
        manifests.render(
            "traefik/traefik.yaml.tmpl",
            HTTP_ENTRYPOINT=http_entrypoint(http),
            LISTEN_IP=settings.INGRESS_LISTEN_IP,
            HTTPS_PORT=https,
            PING_PORT=settings.TRAEFIK_PING_PORT,
        ),
    )
    manifests.apply(ctx, "traefik/ingress.yaml", USER=identity.user_name(NAME))
    ports = f"{https}" + (f" and {http}" if http else "")
    process.start(
        ctx,
        Component(
            name=NAME,
            argv=[str(binary), f"--configFile={config}"],
            env={"KUBECONFIG": str(kubeconfig)},
            ready=http_ok(f"http://127.0.0.1:{settings.TRAEFIK_PING_PORT}/ping"),
            ready_timeout=60,
            fix_hint=f"ports {ports} on {settings.INGRESS_LISTEN_IP} and {settings.TRAEFIK_PING_PORT} "
            "must be free; other ports: TASKFLOW_INGRESS_HTTPS_PORT / TASKFLOW_INGRESS_HTTP_PORT (0 = off)",
        ),
        config,
    )
