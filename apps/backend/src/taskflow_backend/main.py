"""The FastAPI application: services are created on start-up, after the schema is migrated."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from taskflow_backend import __version__
from taskflow_backend.api.errors import install_error_handlers
from taskflow_backend.api.middleware import (
    BearerRequiredMiddleware,
    BodySizeLimitMiddleware,
    MetricsMiddleware,
)
from taskflow_backend.api.routes import auth, chat, health, tasks
from taskflow_backend.core.config import Settings, get_settings
from taskflow_backend.db.migrate import upgrade_when_reachable
from taskflow_backend.services import Services

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations:
            await upgrade_when_reachable(
                settings.database_url.get_secret_value(), settings.db_startup_timeout_seconds
            )
        services = Services.create(settings)
        app.state.services = services
        logger.info(
            "backend ready", extra={"mcp_server_url": settings.mcp_server_url, "llm": settings.llm_enabled}
        )
        try:
            yield
        finally:
            await services.aclose()
            logger.info("backend stopped")

    app = FastAPI(title="Taskflow backend", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BearerRequiredMiddleware, jwt_secret=settings.jwt_secret.get_secret_value())
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(MetricsMiddleware)
    for router in (health.router, auth.router, tasks.router, chat.router):
        app.include_router(router)
    return app
