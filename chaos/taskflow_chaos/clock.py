"""The fault clock of a `chaos run` process: times to fault observed, pod back and API healthy are
measured from the moment the first measuring activity after the fault started (or from our own
fault action, which starts it itself). `remember_pods`, which runs before each fault, resets it."""

from __future__ import annotations

import time

_fault_at: float | None = None


def fault_clock() -> float:
    """The wall time (epoch seconds) the fault started; the first call starts the clock."""
    global _fault_at  # noqa: PLW0603 - one clock per experiment process
    if _fault_at is None:
        _fault_at = time.time()
    return _fault_at


def reset_fault_clock() -> None:
    """Before the next fault of the same experiment (the next `fault_clock()` starts it anew)."""
    global _fault_at  # noqa: PLW0603
    _fault_at = None


def event(what: str) -> dict[str, object]:
    """A point on the experiment's timeline."""
    return {"at": round(time.time(), 3), "what": what}


_marks: dict[str, float] = {}


def mark(name: str) -> float:
    """Name a moment (e.g. "endpoint-removed") so traffic can be judged per window."""
    _marks[name] = time.time()
    return _marks[name]


def marked(name: str) -> float | None:
    return _marks.get(name)
