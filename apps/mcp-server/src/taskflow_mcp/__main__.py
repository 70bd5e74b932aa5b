"""`python -m taskflow_mcp`: serve the MCP tools with uvicorn on HOST:PORT (0.0.0.0:8080)."""

from __future__ import annotations

import uvicorn
from taskflow_backend.core.logging import configure_logging

from taskflow_mcp.app import create_app
from taskflow_mcp.config import McpSettings


def main() -> None:
    settings = McpSettings()  # type: ignore[call-arg]  # DATABASE_URL comes from the environment
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        server_header=False,
    )


if __name__ == "__main__":
    main()
