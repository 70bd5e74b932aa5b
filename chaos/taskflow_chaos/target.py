"""Where Taskflow runs, from the experiment's configuration (all keys optional)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Target:
    namespace: str
    ingress_address: str
    ingress_port: int
    ingress_host: str
    ca_file: str
    """PEM file the ingress certificate must chain to; empty with `insecure` or the system store."""
    insecure: bool
    output_dir: Path
    """Where activities write what a journal cannot hold (traffic samples)."""
    scheme: str = "https"
    """http only to talk to a backend directly (tests); the ingress serves https."""


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in TRUE_WORDS


def target_of(configuration: Mapping[str, Any] | None) -> Target:
    configured = dict(configuration or {})
    return Target(
        namespace=str(configured.get("namespace") or "taskflow"),
        ingress_address=str(configured.get("ingress_address") or "127.0.0.1"),
        ingress_port=int(configured.get("ingress_port") or 443),
        ingress_host=str(configured.get("ingress_host") or "taskflow.local"),
        ca_file=str(configured.get("ingress_ca_file") or ""),
        insecure=_flag(configured.get("ingress_insecure", "false")),
        output_dir=Path(str(configured.get("output_dir") or os.getcwd())),
        scheme=str(configured.get("ingress_scheme") or "https"),
    )
