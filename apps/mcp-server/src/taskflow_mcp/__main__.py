"""`python -m taskflow_mcp`: serve the MCP tools with uvicorn on HOST:PORT (0.0.0.0:8080)."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError
from taskflow_backend.core.logging import configure_logging

from taskflow_mcp.app import create_app
from taskflow_mcp.config import McpSettings


def main() -> None:
    try:
        settings = McpSettings()  # type: ignore[call-arg]  # required fields come from the environment
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        print(f"taskflow-mcp: refusing to start: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
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
