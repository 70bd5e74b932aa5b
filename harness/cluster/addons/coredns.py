"""Cluster DNS: CoreDNS on <node IP>:53 as a host process behind the kube-dns Service."""

from __future__ import annotations

from ..build import ensure_built
from ..component import Component
from ..context import Context
from ..probes import http_ok
from . import builds, identity, manifests, process, settings

NAME = "coredns"


def start(ctx: Context) -> None:
    binary = ensure_built(builds.COREDNS, ctx.layout) / "coredns"
    kubeconfig = identity.kubeconfig(ctx, NAME)
    ready = f"127.0.0.1:{settings.COREDNS_READY_PORT}"
    corefile = manifests.write_config(
        ctx,
        "Corefile",
        manifests.render(
            "coredns/Corefile.tmpl",
            CLUSTER_DOMAIN=ctx.net.cluster_domain,
            NODE_IP=ctx.net.node_ip,
            READY_ADDRESS=ready,
            KUBECONFIG=kubeconfig,
            KUBE_CONTEXT=identity.KUBE_CONTEXT,
        ),
    )
    manifests.apply(
        ctx, "coredns/kube-dns.yaml", USER=identity.user_name(NAME), CLUSTER_DNS=ctx.net.cluster_dns
    )
    process.start(
        ctx,
        Component(
            name=NAME,
            argv=[str(binary), "-conf", str(corefile)],
            ready=http_ok(f"http://{ready}/ready"),
            ready_timeout=60,
            fix_hint=f"port 53 on {ctx.net.node_ip} and {ready} must be free; "
            "`ready` waits for CoreDNS's first sync with the apiserver",
        ),
        corefile,
    )
