"""Liveness, readiness (the database and its schema; never the MCP server) and Prometheus metrics."""

from __future__ import annotations

import logging

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from taskflow_backend.api.deps import ServicesDep

READINESS_TIMEOUT_SECONDS = 2.0

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is unreachable or not migrated"}})
async def readyz(services: ServicesDep) -> JSONResponse:
    try:
        with anyio.fail_after(READINESS_TIMEOUT_SECONDS):
            await services.db.fetchval("SELECT 1")
            problem = await services.schema.check(services.db)
    except Exception as exc:
        logger.warning("not ready", extra={"error": repr(exc)})
        return JSONResponse({"status": "not ready", "database": "unreachable"}, status_code=503)
    if problem is not None:
        return JSONResponse({"status": "not ready", "database": problem}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
