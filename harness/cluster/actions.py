"""Cluster creation as a list of named actions (the kind shape); add-ons append their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .context import Context


@dataclass(frozen=True)
class Action:
    """A named step of `up`.

    run:  idempotent; called on every `up` (must be a quick no-op when already done).
    undo: optional; called by `down` in reverse order, before the core teardown, while the
          apiserver still answers (it may be gone after a crash: undo must tolerate that).
    """

    name: str
    run: Callable[[Context], None]
    undo: Callable[[Context], None] | None = None
