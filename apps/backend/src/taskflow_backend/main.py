"""The FastAPI application: services are created on start-up (after the schema is migrated when
RUN_MIGRATIONS is on; in the cluster the init container has done it)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from taskflow_backend import __version__
from taskflow_backend.api.errors import install_error_handlers
from taskflow_backend.api.limits import RateLimiter
from taskflow_backend.api.middleware import (
    AuthRateLimitMiddleware,
    BearerRequiredMiddleware,
    BodySizeLimitMiddleware,
    MetricsMiddleware,
)
from taskflow_backend.api.routes import auth, chat, health, tasks
from taskflow_backend.core.config import Settings, get_settings
from taskflow_backend.core.logging import configure_logging
from taskflow_backend.core.security import TokenCodec
from taskflow_backend.db.migrate import upgrade_when_reachable
from taskflow_backend.services import Services

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    tokens = TokenCodec(settings.jwt_secret.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations:
            await upgrade_when_reachable(
                settings.database_url.get_secret_value(), settings.db_startup_timeout_seconds
            )
        services = await Services.create(settings, tokens)
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
    # Added innermost first: a request meets metrics, then the body cap, the auth rate limit, the token.
    app.add_middleware(BearerRequiredMiddleware, tokens=tokens)
    app.add_middleware(
        AuthRateLimitMiddleware, limiter=RateLimiter(settings.auth_rate_per_minute, settings.auth_burst)
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)
    for router in (health.router, auth.router, tasks.router, chat.router):
        app.include_router(router)
    return app


def create_app_from_environment() -> FastAPI:
    """uvicorn's factory for worker processes (each builds its app from the same environment)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
