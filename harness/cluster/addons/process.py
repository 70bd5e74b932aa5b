"""Start an add-on's host process, restarting it when its command line or config changed
(`up` stays idempotent, and an upgrade or a new port takes effect on the next `up`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .. import component
from ..component import Component
from ..context import Context


def _digest(comp: Component, configs: tuple[Path, ...]) -> str:
    digest = hashlib.sha256(json.dumps([list(comp.argv), sorted(comp.env.items())]).encode())
    for path in configs:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def start(ctx: Context, comp: Component, *configs: Path) -> None:
    key = f"addon_config_digest_{comp.name}"
    digest = _digest(comp, configs)
    recorded = ctx.recorded(key)
    # None: started before digests were recorded; adopt it rather than interrupt a running cluster
    if recorded not in (None, digest) and component.running(ctx.layout, comp.name) is not None:
        ctx.say(f"{comp.name}: command line or config changed; restarting it")
        component.stop(ctx.layout, comp.name, timeout=comp.stop_timeout)
    ctx.start(comp)
    ctx.record(key, digest)
