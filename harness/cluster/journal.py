"""The intent record: every host change `up` makes, written (atomically) *before* it is made,
with the value it replaces; `down` reverts exactly these, newest first (cluster/README.md,
"What `up` changes on the host").

An entry whose change never happened (a kill right after the record) reverts to a no-op:
every revert checks the host first. The first record of an id wins, so a second `up` never
takes the cluster's own value for the host's previous one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .files import write_private

Entry = dict[str, Any]


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def entries(self) -> list[Entry]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except ValueError as exc:  # never happens with atomic writes; say so if it does
            raise OSError(f"{self.path} is not valid JSON ({exc}); restore it or revert by hand") from exc
        return [e for e in data.get("changes", []) if isinstance(e, dict)] if isinstance(data, dict) else []

    def get(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries() if e.get("id") == entry_id), None)

    def intend(self, entry_id: str, kind: str, **fields: Any) -> Entry:
        """Record a change about to be made (no-op when `entry_id` is recorded already)."""
        entries = self.entries()
        for entry in entries:
            if entry.get("id") == entry_id:
                return entry
        entry = {"id": entry_id, "kind": kind, **fields}
        self._write([*entries, entry])
        return entry

    def update(self, entry_id: str, **fields: Any) -> None:
        """Add facts to a recorded entry (e.g. the pid of a started process)."""
        entries = self.entries()
        for entry in entries:
            if entry.get("id") == entry_id:
                entry.update(fields)
        self._write(entries)

    def forget(self, entry_id: str) -> None:
        """Drop an entry once its change is reverted, so an interrupted `down` resumes where it was."""
        self._write([e for e in self.entries() if e.get("id") != entry_id])

    def _write(self, entries: list[Entry]) -> None:
        write_private(self.path, (json.dumps({"version": 1, "changes": entries}, indent=1) + "\n").encode())
