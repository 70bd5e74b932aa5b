"""JSON error bodies for every failure, and 503 (not 500) when the database is unreachable."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 2


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable", extra={"path": request.url.path, "error": str(exc)})
    return JSONResponse(
        {"detail": "database unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return JSONResponse({"detail": "internal server error"}, status_code=500)


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return await _database_unavailable(request, exc)
    return await _unexpected(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError, ConnectionError, OSError):
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    app.add_exception_handler(Exception, _unexpected)
