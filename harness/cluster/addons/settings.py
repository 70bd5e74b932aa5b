"""Pinned versions, names and ports of the add-ons (see cluster/README.md, "Add-ons")."""

from __future__ import annotations

import os

COREDNS_VERSION = "v1.14.7"
METRICS_SERVER_VERSION = "v0.8.0"
TRAEFIK_VERSION = "v3.6.12"
# Our own provisioner: the library version plus a digest of our source (builds.py).
PROVISIONER_LIB_VERSION = "v13.0.0"

STORAGE_CLASS = "standard"
PROVISIONER_NAME = "taskflow.local/hostpath"
INGRESS_CLASS = "traefik"

# Loopback/node ports the add-ons listen on (besides DNS on <node IP>:53).
COREDNS_READY_PORT = 18181
METRICS_SERVER_PORT = 4443
PROVISIONER_METRICS_PORT = 18090
TRAEFIK_PING_PORT = 18082


def ingress_https_port() -> int:
    return int(os.environ.get("TASKFLOW_INGRESS_HTTPS_PORT", "443"))


def ingress_http_port() -> int:
    """0 turns the plain-HTTP entry point off."""
    return int(os.environ.get("TASKFLOW_INGRESS_HTTP_PORT", "80"))


INGRESS_LISTEN_IP = "127.0.0.1"


def tcp_ports() -> dict[int, str]:
    """TCP ports the add-ons listen on, for the free-port check (DNS's 53 is bound to the node IP
    only, so a host resolver on 127.0.0.53:53 does not clash; CoreDNS's log names a real clash)."""
    ports = {
        COREDNS_READY_PORT: "coredns (ready)",
        METRICS_SERVER_PORT: "metrics-server",
        PROVISIONER_METRICS_PORT: "hostpath-provisioner (metrics)",
        TRAEFIK_PING_PORT: "traefik (ping)",
        ingress_https_port(): "traefik (https; TASKFLOW_INGRESS_HTTPS_PORT)",
    }
    if ingress_http_port():
        ports[ingress_http_port()] = "traefik (http; TASKFLOW_INGRESS_HTTP_PORT, 0 = off)"
    return ports
