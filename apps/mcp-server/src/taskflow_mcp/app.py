"""The ASGI app: stateless streamable HTTP at /mcp (bearer token required), plus /health and /ready."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from taskflow_backend.core.security import MCP_AUDIENCE, TokenCodec
from taskflow_backend.db.migrate import upgrade_when_reachable
from taskflow_backend.db.pool import create_pool
from taskflow_backend.db.schema import SchemaGate

from taskflow_mcp import __version__
from taskflow_mcp.auth import McpTokenMiddleware
from taskflow_mcp.config import McpSettings
from taskflow_mcp.tools import PoolSource, register_tools

logger = logging.getLogger(__name__)


def create_app(settings: McpSettings) -> Starlette:
    db = PoolSource()
    schema = SchemaGate()
    server = MCPServer(
        "taskflow",
        version=__version__,
        instructions="Manage the calling user's to-do list (the user comes from the call's token).",
        log_level=settings.log_level,
    )
    register_tools(server, db)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> JSONResponse:
        try:
            await db().fetchval("SELECT 1")
            problem = await schema.check(db())
        except Exception as exc:
            logger.warning("not ready", extra={"error": repr(exc)})
            return JSONResponse({"status": "not ready", "database": "unreachable"}, status_code=503)
        if problem is not None:
            return JSONResponse({"status": "not ready", "database": problem}, status_code=503)
        return JSONResponse({"status": "ready", "database": "ok"})

    server.custom_route("/health", methods=["GET"])(health)
    server.custom_route("/ready", methods=["GET"])(ready)

    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        host=settings.host,
        # Callers reach it by Service name ("mcp-server:8080"); other Host headers are refused.
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=settings.allowed_hosts
        ),
    )
    app.user_middleware.insert(
        0,
        Middleware(
            McpTokenMiddleware,
            tokens=TokenCodec(settings.mcp_token_secret.get_secret_value(), audience=MCP_AUDIENCE),
        ),
    )
    session_manager_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database_url = settings.database_url.get_secret_value()
        if settings.run_migrations:
            await upgrade_when_reachable(database_url, settings.db_startup_timeout_seconds)
        pool = await create_pool(settings)
        db.bind(pool)
        try:
            async with session_manager_lifespan(app):
                logger.info("mcp server ready")
                yield
        finally:
            await pool.close()

    app.router.lifespan_context = lifespan
    return app
