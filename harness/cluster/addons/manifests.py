"""Add-on configs and manifests live in cluster/addons/<name>/ as `${VAR}` templates."""

from __future__ import annotations

import stat
from pathlib import Path
from string import Template

from ..configs import NODE_NAME
from ..context import Context
from ..files import write_atomic
from .builds import ADDONS_SRC


def render(relative: str, **values: object) -> str:
    """Fill a template; a missing value is a bug, so it raises KeyError."""
    text = (ADDONS_SRC / relative).read_text()
    return Template(text).substitute({k: str(v) for k, v in values.items()})


def apply(ctx: Context, relative: str, **values: object) -> None:
    ctx.apply(render(relative, NODE_IP=ctx.net.node_ip, NODE_NAME=NODE_NAME, **values))


def write_config(ctx: Context, name: str, text: str, mode: int = 0o644) -> Path:
    """Write a rendered config into the state dir (only when it changed) and return its path;
    it has `mode` from its first byte (0600 for a kubeconfig: it holds a key)."""
    path = ctx.layout.config / name
    if not path.exists() or path.read_text() != text or stat.S_IMODE(path.stat().st_mode) != mode:
        write_atomic(path, text.encode(), mode=mode)
    return path
