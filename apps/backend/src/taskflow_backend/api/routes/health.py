"""Liveness, readiness (the database only; never the MCP server) and Prometheus metrics."""

from __future__ import annotations

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from taskflow_backend.api.deps import ServicesDep

READINESS_TIMEOUT_SECONDS = 2.0

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is unreachable"}})
async def readyz(services: ServicesDep) -> JSONResponse:
    try:
        with anyio.fail_after(READINESS_TIMEOUT_SECONDS):
            async with services.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {"status": "not ready", "database": str(exc) or type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ready", "database": "ok"})


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
