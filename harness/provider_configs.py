"""The cluster configs and set-up commands of kind, k3d and minikube, as data (tests read them).

Each maps the ingress controller's 80/443 to this machine's loopback, so the harness reaches the
ingress at 127.0.0.1 (minikube at `minikube ip`), and labels the node the controller runs on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

INGRESS_NODE_LABEL = "ingress-ready=true"
INGRESS_PORTS = (80, 443)


def kind_config(name: str, node_image: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "role": "control-plane",
        # the node label is what harness/prerequisites/manifests/ingress-nginx.yaml selects
        "kubeadmConfigPatches": [
            "kind: InitConfiguration\n"
            "nodeRegistration:\n"
            "  kubeletExtraArgs:\n"
            f'    node-labels: "{INGRESS_NODE_LABEL}"\n'
        ],
        "extraPortMappings": [
            {"containerPort": port, "hostPort": port, "listenAddress": "127.0.0.1", "protocol": "TCP"}
            for port in INGRESS_PORTS
        ],
    }
    if node_image:
        node["image"] = node_image
    return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": name, "nodes": [node]}


def k3d_config(name: str) -> dict[str, Any]:
    """k3s without its bundled Traefik: the harness installs the controller the kind overlay names."""
    return {
        "apiVersion": "k3d.io/v1alpha5",
        "kind": "Simple",
        "metadata": {"name": name},
        "servers": 1,
        "ports": [
            {"port": f"127.0.0.1:{port}:{port}", "nodeFilters": ["loadbalancer"]} for port in INGRESS_PORTS
        ],
        "options": {
            "k3s": {
                "extraArgs": [{"arg": "--disable=traefik", "nodeFilters": ["server:*"]}],
                "nodeLabels": [{"label": INGRESS_NODE_LABEL, "nodeFilters": ["server:*"]}],
            }
        },
    }


def minikube_addon_commands(profile: str) -> list[list[str]]:
    """minikube installs its own ingress-nginx and metrics-server; the harness then finds them."""
    return [["minikube", "addons", "enable", addon, "-p", profile] for addon in ("ingress", "metrics-server")]


def write_config(config: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    name = config.get("name") or config["metadata"]["name"]
    path = directory / f"{config['kind'].lower()}-{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
