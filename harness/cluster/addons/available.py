"""`up` is done when every add-on does its job, not merely when its process answers."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..configs import NODE_NAME
from ..context import Context
from . import settings
from .dnsquery import DnsError, query_a

Check = Callable[[], "str | None"]


def dns_check(ctx: Context) -> Check:
    name = f"kubernetes.default.svc.{ctx.net.cluster_domain}"

    def check() -> str | None:
        # through the kube-dns ClusterIP, so the Service, kube-proxy and CoreDNS all take part
        try:
            answer = query_a(ctx.net.cluster_dns, name)
        except DnsError as exc:
            return f"DNS: {exc}"
        return None if ctx.net.kubernetes_service_ip in answer else f"DNS: {name} -> {answer}"

    return check


def metrics_check(ctx: Context) -> Check:
    def check() -> str | None:
        raw = ctx.kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", "-o", "json", check=False)
        if not raw:
            return "metrics: APIService missing"
        conds = {c["type"]: c for c in json.loads(raw).get("status", {}).get("conditions", [])}
        available = conds.get("Available", {})
        if available.get("status") != "True":
            return f"metrics: APIService not Available ({available.get('message', 'no condition yet')[:120]})"
        nodes = ctx.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/nodes/{NODE_NAME}", check=False)
        return None if '"usage"' in nodes else "metrics: no node metrics yet (first scrape pending)"

    return check


def _exists(ctx: Context, kind: str, name: str) -> Check:
    def check() -> str | None:
        return None if ctx.kubectl("get", kind, name, "-o", "name", check=False) else f"{kind}/{name} missing"

    return check


def checks(ctx: Context) -> dict[str, Check]:
    return {
        "cluster DNS": dns_check(ctx),
        "metrics API": metrics_check(ctx),
        "default StorageClass": _exists(ctx, "storageclass", settings.STORAGE_CLASS),
        "IngressClass": _exists(ctx, "ingressclass", settings.INGRESS_CLASS),
    }


def wait_all(ctx: Context) -> None:
    pending = checks(ctx)

    def check() -> str | None:
        reasons = []
        for what, probe in list(pending.items()):
            reason = probe()
            if reason is None:
                del pending[what]
            else:
                reasons.append(reason)
        return "; ".join(reasons) or None

    ctx.wait_for("add-ons available", check, timeout=120)
