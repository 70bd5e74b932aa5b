"""Advisory file locks: two runs on one host (a person and CI, parallel workers) that want the
same build, cache entry or cluster wait for each other instead of clobbering it.

The kernel releases a lock when its holder dies, so a crashed run never leaves one behind.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive flock on path; say who holds it while waiting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            print(f"[lock] waiting for {what} held by pid {holder} ({path})", file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
