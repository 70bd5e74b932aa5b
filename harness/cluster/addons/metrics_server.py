"""Resource metrics: metrics-server as a host process behind the v1beta1.metrics.k8s.io APIService."""

from __future__ import annotations

import base64

from ..build import ensure_built
from ..component import Component
from ..context import Context
from ..probes import http_ok
from . import builds, identity, manifests, process, settings

NAME = "metrics-server"
SERVICE_DNS = ("metrics-server.kube-system.svc", "metrics-server.kube-system.svc.cluster.local")


def start(ctx: Context) -> None:
    binary = ensure_built(builds.METRICS_SERVER, ctx.layout) / "metrics-server"
    kubeconfig = identity.kubeconfig(ctx, NAME)
    cert, key = identity.serving_cert(ctx, "addon-metrics-server-serving", SERVICE_DNS, (ctx.net.node_ip,))
    ca = identity.cluster_pki(ctx).crt("ca")
    port = settings.METRICS_SERVER_PORT
    manifests.apply(ctx, "metrics-server/metrics-server.yaml", USER=identity.user_name(NAME), PORT=port)
    process.start(
        ctx,
        Component(
            name=NAME,
            argv=[
                str(binary),
                f"--bind-address={ctx.net.node_ip}",
                f"--secure-port={port}",
                f"--tls-cert-file={cert}",
                f"--tls-private-key-file={key}",
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--kubelet-certificate-authority={ca}",
                "--kubelet-preferred-address-types=InternalIP",
                "--kubelet-use-node-status-port",
                # the shortest resolution metrics-server allows (HPA reacts sooner); it must
                # exceed the kubelet timeout, which a local kubelet never needs at 10s
                "--metric-resolution=10s",
                "--kubelet-request-timeout=5s",
                "--v=1",
            ],
            ready=http_ok(f"https://{ctx.net.node_ip}:{port}/livez", ca=ca),
            ready_timeout=60,
            fix_hint=f"port {port} on {ctx.net.node_ip} must be free; see the log",
        ),
    )
    manifests.apply(
        ctx, "metrics-server/apiservice.yaml", CA_BUNDLE=base64.b64encode(ca.read_bytes()).decode()
    )
