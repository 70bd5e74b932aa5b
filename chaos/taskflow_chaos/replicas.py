"""Remember a Deployment's replica count before scaling it, and put exactly that back (rollback)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaosk8s import create_k8s_api_client
from chaosk8s.deployment.actions import scale_deployment
from kubernetes import client

from taskflow_chaos.target import target_of

_replicas: dict[str, int] = {}


def remember_replicas(
    name: str, configuration: Mapping[str, Any] | None = None, secrets: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    apps = client.AppsV1Api(create_k8s_api_client(secrets))
    replicas = apps.read_namespaced_deployment(name, target_of(configuration).namespace).spec.replicas
    _replicas[name] = int(replicas if replicas is not None else 1)
    return {"deployment": name, "replicas": _replicas[name]}


def restore_replicas(
    name: str,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    if name not in _replicas:
        # Never scaled by this experiment: leave it as it is.
        return {"deployment": name, "restored": False}
    replicas = _replicas[name]
    scale_deployment(name, replicas, ns=target_of(configuration).namespace, secrets=secrets)
    return {"deployment": name, "restored": True, "replicas": replicas}
