"""`python -m taskflow_backend`: serve the API with uvicorn.

On SIGTERM uvicorn stops accepting connections, lets in-flight requests finish (up to
GRACEFUL_SHUTDOWN_SECONDS), then runs the shutdown half of the lifespan. With WORKERS > 1 a
supervisor process forks that many workers sharing the port, and passes SIGTERM on to them.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from taskflow_backend.core.config import Settings, get_settings
from taskflow_backend.core.logging import configure_logging
from taskflow_backend.main import create_app


def _settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        print(f"taskflow-backend: refusing to start: {problems}", file=sys.stderr)
        raise SystemExit(2) from None


def main() -> None:
    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    # One worker serves the app object in-process; more need an import string so each can build its own.
    app: FastAPI | str = create_app(settings)
    if settings.workers > 1:
        app = "taskflow_backend.main:create_app_from_environment"
    uvicorn.run(
        app,
        factory=settings.workers > 1,
        workers=settings.workers if settings.workers > 1 else None,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=settings.access_log,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        server_header=False,
    )


if __name__ == "__main__":
    main()
