"""Settings read from the environment (keys pinned in docs/contracts.md)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from taskflow_backend.core.security import MIN_SECRET_LENGTH

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class DatabaseSettings(BaseSettings):
    """What both the backend and the MCP server need to reach PostgreSQL."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    database_url: SecretStr
    # Connections per process; the server never has more requests in flight on the database than this.
    db_pool_size: int = Field(default=20, ge=1)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # Pool recycling: a connection is replaced after this many queries, or after this long unused.
    db_pool_recycle_queries: int = Field(default=50_000, ge=1)
    db_pool_idle_seconds: float = Field(default=300.0, ge=0)
    db_command_timeout_seconds: float = Field(default=10.0, gt=0)
    db_startup_timeout_seconds: float = Field(default=60.0, ge=0)
    log_level: LogLevel = "INFO"


class Settings(DatabaseSettings):
    """The backend's whole configuration."""

    host: str = "0.0.0.0"  # a container listens on every interface
    port: int = Field(default=8000, ge=1, le=65535)
    jwt_secret: SecretStr
    # Signs the short-lived tokens the backend sends with each MCP tool call (audience "mcp").
    mcp_token_secret: SecretStr
    mcp_token_ttl_seconds: int = Field(default=60, ge=1)
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
    # uvicorn worker processes; 1 serves in-process (the tests' default), more fork a supervisor.
    workers: int = Field(default=1, ge=1, le=16)
    # Proxy headers (X-Forwarded-For/-Proto) are believed only from these addresses (the ingress).
    forwarded_allow_ips: str = "127.0.0.1"
    # Request limits.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    password_hash_concurrency: int = Field(default=4, ge=1)
    # Waiters hold no hash memory, so the queue may be long; only the concurrency above runs at once.
    password_hash_queue: int = Field(default=128, ge=0)
    # Per client address on /api/auth/*: a token bucket refilled at this rate, holding at most the burst.
    auth_rate_per_minute: int = Field(default=1200, ge=1)
    auth_burst: int = Field(default=300, ge=1)

    @field_validator("jwt_secret", "mcp_token_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"{(info.field_name or '').upper()} must be at least {MIN_SECRET_LENGTH} characters"
            )
        return value

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # required fields come from the environment
