"""Leases that say "a run is using the cluster", so `down` waits instead of pulling it away.

Each user holds an exclusive flock on its own file `<cache>/cluster-users/<pid>`; the kernel
drops the lock when the holder dies, so a crashed run never blocks `down`.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import network
from .paths import Layout


def _dir(layout: Layout) -> Path:
    return layout.cache / "cluster-users"


@contextmanager
def using(layout: Layout, what: str) -> Iterator[None]:
    """Hold a lease for the duration of a run that needs the cluster (tests, conformance); the
    guard is re-asserted first, so no run uses the cluster without it."""
    if os.geteuid() == 0 and layout.journal.exists():
        network.ensure_guard()
    directory = _dir(layout)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / str(os.getpid())
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(what)
        fh.flush()
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


def others(layout: Layout) -> list[str]:
    """Live leases of other processes, as 'pid (what)'; stale lease files are removed."""
    found: list[str] = []
    directory = _dir(layout)
    if not directory.is_dir():
        return found
    for path in directory.iterdir():
        if path.name == str(os.getpid()):
            continue
        try:
            fh = path.open("r")
        except OSError:
            continue
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                found.append(f"pid {path.name} ({fh.read().strip() or '?'})")
                continue
            with suppress(OSError):
                path.unlink()  # its holder is gone
    return found


def wait_until_unused(layout: Layout, poll: float = 2.0) -> None:
    shown: list[str] = []
    while users := others(layout):
        if users != shown:
            print(
                f"[down] the cluster is in use by {', '.join(users)}; waiting (Ctrl-C to leave it up)",
                file=sys.stderr,
                flush=True,
            )
            shown = users
        time.sleep(poll)
