"""Is the database's schema recent enough for this code? (Migrations run once per rollout, in the
backend pod's init container; the apps only check.)

Recent enough: the database is at this code's newest revision, or at a revision this code does not
know, which is taken to be a newer one (a rollback meeting a newer schema keeps serving, since
revisions only ever add). A database at an older known revision, or not migrated at all, is not.
"""

from __future__ import annotations

import logging
from importlib.resources import files

import asyncpg
from alembic.script import ScriptDirectory

logger = logging.getLogger(__name__)


def known_revisions() -> list[str]:
    """This code's revisions, oldest first."""
    script = ScriptDirectory(str(files("taskflow_backend") / "migrations"))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


class SchemaGate:
    """Remembers once the schema was found recent enough, so readiness asks the database only until then."""

    def __init__(self) -> None:
        self._revisions = known_revisions()
        self.ready = False

    async def check(self, db: asyncpg.Pool) -> str | None:
        """None when the schema is recent enough, else why not."""
        if self.ready:
            return None
        try:
            current = await db.fetchval("SELECT version_num FROM alembic_version")
        except asyncpg.UndefinedTableError:
            return "schema not migrated yet"
        if current is None:
            return "schema not migrated yet"
        if current in self._revisions and current != self._revisions[-1]:
            return f"schema at revision {current}, this code needs {self._revisions[-1]}"
        if current not in self._revisions:
            logger.warning(
                "schema revision unknown to this code; assuming it is newer", extra={"revision": current}
            )
        self.ready = True
        return None
