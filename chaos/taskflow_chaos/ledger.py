"""The ledger of acknowledged writes, and the check that every one of them is still there.

A write is acknowledged when the API answered it with success. An update whose answer never came
may or may not have been applied, so the value found may be the last acknowledged one or one sent
after it; anything else (or a missing task) is a lost write.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Ledger:
    acknowledged: dict[int, str] = field(default_factory=dict)
    """task id -> last acknowledged title."""
    unanswered: dict[int, set[str]] = field(default_factory=dict)
    """task id -> titles sent after the last acknowledgement whose answer never came."""
    writes_acknowledged: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def acknowledge(self, task_id: int, title: str) -> None:
        with self._lock:
            self.acknowledged[task_id] = title
            self.unanswered.pop(task_id, None)
            self.writes_acknowledged += 1

    def unanswered_update(self, task_id: int, title: str) -> None:
        with self._lock:
            self.unanswered.setdefault(task_id, set()).add(title)


@dataclass(frozen=True)
class LedgerComparison:
    acknowledged_tasks: int
    found_with_last_value: int
    missing: tuple[int, ...]
    stale: tuple[tuple[int, str, str], ...]
    """(task id, acknowledged title, title found)."""

    @property
    def lost(self) -> int:
        return len(self.missing) + len(self.stale)


def compare(ledger: Ledger, found: dict[int, str]) -> LedgerComparison:
    """Compare the ledger with the titles found in the API (task id -> title)."""
    missing: list[int] = []
    stale: list[tuple[int, str, str]] = []
    for task_id, title in sorted(ledger.acknowledged.items()):
        if task_id not in found:
            missing.append(task_id)
        elif found[task_id] != title and found[task_id] not in ledger.unanswered.get(task_id, set()):
            stale.append((task_id, title, found[task_id]))
    matched = len(ledger.acknowledged) - len(missing) - len(stale)
    return LedgerComparison(len(ledger.acknowledged), matched, tuple(missing), tuple(stale))
