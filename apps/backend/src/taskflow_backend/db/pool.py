"""The asyncpg connection pool the request paths use (SQLAlchemy is kept for migrations only).

Sized to the concurrency it serves (DB_POOL_SIZE, no overflow): a connection, once opened, stays
open and is reused, so requests never pay for a new PostgreSQL connection. Connections open lazily
(the app starts while PostgreSQL is still starting), are replaced after DB_POOL_RECYCLE_QUERIES
queries or DB_POOL_IDLE_SECONDS idle, and are returned without asyncpg's reset query: nothing here
changes session state (no SET, LISTEN or session advisory lock), so that round trip buys nothing.
A connection that died with a PostgreSQL restart fails its request with 503 and is discarded.
"""

from __future__ import annotations

import asyncpg

from taskflow_backend.core.config import DatabaseSettings


async def _no_reset(connection: asyncpg.Connection) -> None:
    return None


async def create_pool(settings: DatabaseSettings) -> asyncpg.Pool:
    pool = asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=0,
        max_size=settings.db_pool_size,
        max_queries=settings.db_pool_recycle_queries,
        max_inactive_connection_lifetime=settings.db_pool_idle_seconds,
        command_timeout=settings.db_command_timeout_seconds,
        reset=_no_reset,
    )
    await pool
    return pool
