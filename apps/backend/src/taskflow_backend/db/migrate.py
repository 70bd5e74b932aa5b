"""Bring the schema to the newest revision, one replica at a time.

Every replica (and the MCP server) calls this at start-up. A PostgreSQL session-level advisory lock
serialises them: the first one migrates, the others wait, then find the schema at head and do nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from taskflow_backend.core.config import DatabaseSettings
from taskflow_backend.core.logging import configure_logging
from taskflow_backend.db.engine import async_database_url
from taskflow_backend.db.schema import known_revisions

# Any fixed 64-bit number works, as long as nothing else in this database uses it.
MIGRATION_LOCK_KEY = 0x7461736B666C6F77  # "taskflow"

logger = logging.getLogger(__name__)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("taskflow_backend") / "migrations"))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current not in known_revisions():
        # A rollback: an older release's init container meets the newer release's schema. Revisions
        # only ever add, so it is left as it is (the apps' readiness takes it as newer, too);
        # failing here would keep the older pods in Init:CrashLoopBackOff and stall the rollback.
        logger.warning(
            "schema revision unknown to this release; taken as newer and left as it is",
            extra={"revision": current},
        )
        return
    command.upgrade(_alembic_config(connection), "head")


async def upgrade_to_head(database_url: str, lock_timeout_seconds: float = 60.0) -> None:
    """Migrate under the advisory lock. Waiting for that lock, or for a table lock a migration needs
    (e.g. behind a long query), fails after `lock_timeout_seconds` instead of hanging the rollout."""
    engine = create_async_engine(async_database_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            logger.info("waiting for the migration lock")
            timeout_ms = int(lock_timeout_seconds * 1000)
            await connection.execute(text(f"SET lock_timeout = {timeout_ms}"))
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await connection.commit()
            try:
                await connection.run_sync(_upgrade)
                await connection.commit()
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                await connection.commit()
            logger.info("schema is at head")
    finally:
        await engine.dispose()


async def upgrade_when_reachable(database_url: str, timeout_seconds: float) -> None:
    """upgrade_to_head, retried while PostgreSQL is still starting (pods start in any order)."""
    deadline = time.monotonic() + timeout_seconds
    delay = 0.5
    while True:
        try:
            await upgrade_to_head(database_url)
            return
        except (OSError, ConnectionError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            logger.warning("database not reachable yet; retrying", extra={"error": str(exc), "in_s": delay})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


def main() -> None:
    """`python -m taskflow_backend.db.migrate`: migrate and exit: the backend pod's init container,
    so the schema changes once per rollout, before any new app process starts. Waits for PostgreSQL
    up to DB_STARTUP_TIMEOUT_SECONDS; exits 1 with one line when it cannot finish."""
    settings = DatabaseSettings()  # type: ignore[call-arg]  # DATABASE_URL comes from the environment
    configure_logging(settings.log_level)
    try:
        asyncio.run(
            upgrade_when_reachable(
                settings.database_url.get_secret_value(), settings.db_startup_timeout_seconds
            )
        )
    except Exception as exc:
        logger.error("migration failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
