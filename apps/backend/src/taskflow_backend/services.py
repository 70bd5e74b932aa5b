"""The long-lived objects one backend process shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx

from taskflow_backend.api.limits import HashSlots
from taskflow_backend.chat.agent import ChatAgent
from taskflow_backend.chat.llm import LlmAgent
from taskflow_backend.core.config import Settings
from taskflow_backend.core.security import MCP_AUDIENCE, TokenCodec
from taskflow_backend.db.pool import create_pool
from taskflow_backend.db.schema import SchemaGate
from taskflow_backend.mcp_client.breaker import CircuitBreaker
from taskflow_backend.mcp_client.client import McpTaskClient


@dataclass
class Services:
    settings: Settings
    db: asyncpg.Pool
    schema: SchemaGate
    tokens: TokenCodec
    hash_slots: HashSlots
    mcp: McpTaskClient
    agent: ChatAgent
    llm_http: httpx.AsyncClient | None

    @classmethod
    async def create(cls, settings: Settings, tokens: TokenCodec) -> Services:
        mcp = McpTaskClient(
            settings.mcp_server_url,
            tokens=TokenCodec(settings.mcp_token_secret.get_secret_value(), audience=MCP_AUDIENCE),
            token_ttl_seconds=settings.mcp_token_ttl_seconds,
            connect_timeout=settings.mcp_connect_timeout_seconds,
            total_timeout=settings.mcp_timeout_seconds,
            retry_after_seconds=settings.mcp_retry_after_seconds,
            breaker=CircuitBreaker(settings.mcp_breaker_failure_threshold, settings.mcp_retry_after_seconds),
        )
        llm_http = None
        llm = None
        if settings.llm_enabled and settings.llm_base_url and settings.llm_model:
            headers = {}
            if settings.llm_api_key is not None:
                headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
            llm_http = httpx.AsyncClient(
                base_url=settings.llm_base_url.rstrip("/") + "/",
                headers=headers,
                timeout=settings.llm_timeout_seconds,
            )
            llm = LlmAgent(llm_http, settings.llm_model)
        return cls(
            settings,
            await create_pool(settings),
            SchemaGate(),
            tokens,
            HashSlots(settings.password_hash_concurrency, queue=settings.password_hash_queue),
            mcp,
            ChatAgent(llm),
            llm_http,
        )

    async def aclose(self) -> None:
        await self.mcp.aclose()
        if self.llm_http is not None:
            await self.llm_http.aclose()
        await self.db.close()
