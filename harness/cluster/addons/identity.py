"""Each add-on talks to the apiserver as its own user: a client certificate from the cluster
CA and a kubeconfig, so its RBAC (in its manifest) is all it can do."""

from __future__ import annotations

import json
from pathlib import Path

from .. import configs
from ..context import Context
from ..pki import CertSpec, Pki
from .manifests import write_config

KUBE_CONTEXT = "taskflow"  # the context name configs.kubeconfig() writes


def user_name(addon: str) -> str:
    return f"taskflow:addon:{addon}"


def cluster_pki(ctx: Context) -> Pki:
    pki = Pki(ctx.layout.pki)
    pki.ensure_ca("ca", "taskflow-cluster-ca")  # loads the CA the core's certificates action made
    return pki


def kubeconfig(ctx: Context, addon: str) -> Path:
    """Write (idempotently) and return the kubeconfig of `addon`."""
    pki = cluster_pki(ctx)
    cert = f"addon-{addon}"
    pki.ensure_cert(CertSpec(cert, user_name(addon), client=True))
    config = configs.kubeconfig(pki, cert, user_name(addon), configs.apiserver_url(ctx.net))
    path = write_config(ctx, f"addon-{addon}.kubeconfig", json.dumps(config, indent=2) + "\n", mode=0o600)
    return path


def serving_cert(
    ctx: Context, name: str, dns_names: tuple[str, ...], ips: tuple[str, ...]
) -> tuple[Path, Path]:
    """A server certificate from the cluster CA: (cert, key)."""
    pki = cluster_pki(ctx)
    pki.ensure_cert(CertSpec(name, dns_names[0], dns_names=dns_names, ip_addresses=ips, server=True))
    return pki.crt(name), pki.key(name)
