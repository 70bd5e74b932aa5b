"""The ASGI app: stateless streamable HTTP at /mcp, plus /health and /ready."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from taskflow_backend.db.engine import create_engine, create_session_factory
from taskflow_backend.db.migrate import upgrade_when_reachable

from taskflow_mcp import __version__
from taskflow_mcp.config import McpSettings
from taskflow_mcp.tools import SessionSource, register_tools

logger = logging.getLogger(__name__)


def create_app(settings: McpSettings) -> Starlette:
    sessions = SessionSource()
    server = MCPServer(
        "taskflow",
        version=__version__,
        instructions="Manage a user's to-do list. Every tool takes the user's id.",
        log_level=settings.log_level,
    )
    register_tools(server, sessions)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> JSONResponse:
        try:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse({"status": "not ready", "database": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "database": "ok"})

    server.custom_route("/health", methods=["GET"])(health)
    server.custom_route("/ready", methods=["GET"])(ready)

    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        host=settings.host,
        # Callers reach it by Service name ("mcp-server:8080"); the cluster's NetworkPolicies decide
        # who may, so the SDK's Host-header allow-list for loopback servers would only get in the way.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    session_manager_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database_url = settings.database_url.get_secret_value()
        if settings.run_migrations:
            await upgrade_when_reachable(database_url, settings.db_startup_timeout_seconds)
        engine = create_engine(settings)
        sessions.bind(create_session_factory(engine))
        try:
            async with session_manager_lifespan(app):
                logger.info("mcp server ready")
                yield
        finally:
            await engine.dispose()

    app.router.lifespan_context = lifespan
    return app
