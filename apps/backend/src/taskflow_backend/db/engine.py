"""The async engine and session factory over asyncpg."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from taskflow_backend.core.config import DatabaseSettings

_ASYNC_DRIVER = "postgresql+asyncpg"


def async_database_url(database_url: str) -> URL:
    """`postgresql://...` (the contract's form) with the asyncpg driver swapped in."""
    url = make_url(database_url)
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {url.get_backend_name()}://")
    url = url.set(drivername=_ASYNC_DRIVER)
    if "sslmode" in url.query:
        # libpq spells it sslmode; asyncpg takes the same values as `ssl`.
        url = url.difference_update_query(["sslmode"]).update_query_dict({"ssl": url.query["sslmode"]})
    return url


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    return create_async_engine(
        async_database_url(settings.database_url.get_secret_value()),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=settings.db_pool_pre_ping,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
