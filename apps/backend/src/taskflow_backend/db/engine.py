"""The SQLAlchemy URL for migrations (Alembic runs on SQLAlchemy; request paths use db.pool)."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

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
