"""The types shared by deploying and by live access: where Taskflow runs and how to reach it.

Below both harness.deploy/harness.providers (which make these) and harness.live/ingress_client
(which read them), so live access never imports the deploy machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.kube import Kube

INGRESS_HTTPS_PORT = 443


@dataclass(frozen=True)
class IngressEndpoint:
    """Where the ingress controller's HTTPS port is reachable from this machine."""

    address: str
    port: int = INGRESS_HTTPS_PORT


@dataclass
class Deployment:
    """Taskflow as deployed for one run: where it is and how long each step took."""

    kube: Kube
    namespace: str
    ingress: IngressEndpoint
    images: dict[str, str]
    """Image name (docs/contracts.md, without tag) -> the reference deployed this run."""
    manifests: list[dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)
