"""Cluster prerequisites: an ingress controller for the overlay's IngressClass, the metrics API,
a default StorageClass with dynamic provisioning and DNS; checked before every deploy and
installed from pinned manifests (manifests/ beside this package) when the provider allows it."""

from __future__ import annotations

from .install import Options, Prerequisites, Result, ensure_prerequisites, pieces, render

__all__ = ["Options", "Prerequisites", "Result", "ensure_prerequisites", "pieces", "render"]
