"""Settings read from the environment."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from taskflow_backend.core.config import DatabaseSettings
from taskflow_backend.core.security import MIN_SECRET_LENGTH


class McpSettings(DatabaseSettings):
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=1, le=65535)
    # Verifies the backend's per-call tokens (audience "mcp"); the same value as the backend's.
    mcp_token_secret: SecretStr
    # Host headers the MCP endpoint answers (the SDK's DNS-rebinding protection); "name:*" = any port.
    mcp_allowed_hosts: str = "mcp-server,mcp-server:*,127.0.0.1:*,localhost:*"
    run_migrations: bool = True
    graceful_shutdown_seconds: int = Field(default=20, ge=0)

    @field_validator("mcp_token_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"MCP_TOKEN_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @property
    def allowed_hosts(self) -> list[str]:
        return [host.strip() for host in self.mcp_allowed_hosts.split(",") if host.strip()]
