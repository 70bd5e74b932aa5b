"""The FastAPI application: services are created on start-up, after the schema is migrated."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from taskflow_backend import __version__
from taskflow_backend.api.errors import install_error_handlers
from taskflow_backend.api.middleware import BodySizeLimitMiddleware, MetricsMiddleware
from taskflow_backend.api.routes import auth, chat, health, tasks
from taskflow_backend.core.config import Settings, get_settings
from taskflow_backend.db.migrate import upgrade_to_head
from taskflow_backend.services import Services

logger = logging.getLogger(__name__)


async def _migrate_when_database_is_up(settings: Settings) -> None:
    """Retry while PostgreSQL is still starting (pods start in any order)."""
    deadline = time.monotonic() + settings.db_startup_timeout_seconds
    delay = 0.5
    while True:
        try:
            await upgrade_to_head(settings.database_url.get_secret_value())
            return
        except (OSError, ConnectionError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            logger.warning("database not reachable yet; retrying", extra={"error": str(exc), "in_s": delay})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations:
            await _migrate_when_database_is_up(settings)
        services = Services.create(settings)
        app.state.services = services
        logger.info("backend ready", extra={"mcp_server_url": settings.mcp_server_url, "llm": settings.llm_enabled})
        try:
            yield
        finally:
            await services.aclose()
            logger.info("backend stopped")

    app = FastAPI(title="Taskflow backend", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(MetricsMiddleware)
    for router in (health.router, auth.router, tasks.router, chat.router):
        app.include_router(router)
    return app
