"""`python -m taskflow_backend`: serve the API with uvicorn.

On SIGTERM uvicorn stops accepting connections, lets in-flight requests finish (up to
GRACEFUL_SHUTDOWN_SECONDS), then runs the shutdown half of the lifespan.
"""

from __future__ import annotations

import uvicorn

from taskflow_backend.core.config import get_settings
from taskflow_backend.core.logging import configure_logging
from taskflow_backend.main import create_app


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=settings.access_log,
        proxy_headers=True,
        forwarded_allow_ips="*",
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        server_header=False,
    )


if __name__ == "__main__":
    main()
