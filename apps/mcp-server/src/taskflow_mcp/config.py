"""Settings read from the environment."""

from __future__ import annotations

from pydantic import Field
from taskflow_backend.core.config import DatabaseSettings


class McpSettings(DatabaseSettings):
    host: str = "0.0.0.0"  # bound to loopback the SDK would reject the Host header "mcp-server:8080"
    port: int = Field(default=8080, ge=1, le=65535)
    run_migrations: bool = True
    graceful_shutdown_seconds: int = Field(default=20, ge=0)
