"""Settings read from the environment (keys pinned in docs/contracts.md)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class DatabaseSettings(BaseSettings):
    """What both the backend and the MCP server need to reach PostgreSQL."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    database_url: SecretStr
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # A round trip per checkout, so connections that died with a PostgreSQL restart are never used.
    db_pool_pre_ping: bool = True
    db_startup_timeout_seconds: float = Field(default=60.0, ge=0)
    log_level: LogLevel = "INFO"


class Settings(DatabaseSettings):
    """The backend's whole configuration."""

    host: str = "0.0.0.0"  # a container listens on every interface
    port: int = Field(default=8000, ge=1, le=65535)
    jwt_secret: SecretStr
    access_token_ttl_seconds: int = Field(default=3600, ge=1)
    mcp_server_url: str = "http://mcp-server:8080/mcp"
    mcp_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    mcp_timeout_seconds: float = Field(default=5.0, gt=0)
    mcp_retry_after_seconds: int = Field(default=5, ge=1)
    mcp_breaker_failure_threshold: int = Field(default=3, ge=1)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=20.0, gt=0)
    graceful_shutdown_seconds: int = Field(default=20, ge=0)
    access_log: bool = True
    run_migrations: bool = True

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # required fields come from the environment
