"""What every start action gets: paths, network plan, binaries and small helpers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import component
from .errors import ClusterError
from .files import write_atomic
from .images import import_image
from .journal import Journal
from .paths import Layout
from .settings import NETWORK, Network


@dataclass
class Context:
    layout: Layout
    net: Network = NETWORK
    # binary name -> absolute path; the build action fills the core ones, add-ons may add.
    binaries: dict[str, Path] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)

    def say(self, msg: str) -> None:
        elapsed = time.monotonic() - self.started_at
        print(f"[{elapsed:5.1f}s] {msg}", file=sys.stderr, flush=True)

    # processes
    @property
    def journal(self) -> Journal:
        return Journal(self.layout.journal)

    def start(self, comp: component.Component) -> None:
        """Start a host-process component (no-op if it runs with the same command line) and wait
        until it is ready. Its command line is recorded first: `down` finds it even when a kill
        came between the start and the pid file."""
        entry_id = f"process:{comp.name}"
        recorded = self.journal.get(entry_id)
        already = component.running(self.layout, comp.name) is not None
        if already and recorded is not None and recorded.get("argv") != list(comp.argv):
            self.say(f"{comp.name}: command line changed; restarting it")
            component.stop(self.layout, comp.name, timeout=comp.stop_timeout)
            already = False
        self.journal.intend(entry_id, "process", name=comp.name, argv=list(comp.argv))
        self.journal.update(entry_id, argv=list(comp.argv))
        rec = component.start(self.layout, comp)
        if not already:
            _append_order(self.layout, comp.name)
        self.say(f"{comp.name}: {'already running' if already else 'started'} (pid {rec.pid})")
        component.wait_ready(self.layout, comp)
        self.say(f"{comp.name}: ready")

    # kubernetes
    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        argv = [str(self.binaries["kubectl"]), "--kubeconfig", str(self.layout.admin_kubeconfig), *args]
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise ClusterError(
                f"kubectl {' '.join(args)} failed: {proc.stderr.strip()[-800:]}",
                "check `python -m harness.cluster status` and the apiserver log",
                log=self.layout.log("kube-apiserver"),
            )
        return proc.stdout

    def apply(self, manifest: str) -> None:
        """Server-side apply of a YAML/JSON manifest (multi-document allowed)."""
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=manifest)

    def wait_for(self, what: str, check: Callable[[], str | None], timeout: float) -> None:
        """Poll `check` (None = done, else the reason) with progress; fail naming what and why."""
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            reason = check()
            if reason is None:
                self.say(f"{what}: ok")
                return
            if reason != last:
                self.say(f"{what}: waiting ({reason})")
                last = reason
            if time.monotonic() > deadline:
                raise ClusterError(f"{what} not reached after {timeout:.0f}s: {reason}")
            time.sleep(1.0)

    def load_image(self, tar: Path) -> None:
        import_image(self, tar)

    # bookkeeping for `down`
    def record(self, key: str, value: Any) -> None:
        data = load_manifest(self.layout)
        data[key] = value
        write_atomic(self.layout.manifest, json.dumps(data, indent=2, sort_keys=True).encode())

    def recorded(self, key: str, default: Any = None) -> Any:
        return load_manifest(self.layout).get(key, default)


def load_manifest(layout: Layout) -> dict[str, Any]:
    try:
        data = json.loads(layout.manifest.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _order_file(layout: Layout) -> Path:
    return layout.pids / "start-order"


def _append_order(layout: Layout, name: str) -> None:
    names = start_order(layout)
    if name not in names:
        names.append(name)
        write_atomic(_order_file(layout), ("\n".join(names) + "\n").encode())


def start_order(layout: Layout) -> list[str]:
    try:
        return [n for n in _order_file(layout).read_text().split() if n]
    except OSError:
        return []
