"""The long-lived objects one backend process shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from taskflow_backend.chat.agent import ChatAgent
from taskflow_backend.chat.llm import LlmAgent
from taskflow_backend.core.config import Settings
from taskflow_backend.db.engine import create_engine, create_session_factory
from taskflow_backend.mcp_client.breaker import CircuitBreaker
from taskflow_backend.mcp_client.client import McpTaskClient


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    mcp: McpTaskClient
    agent: ChatAgent
    llm_http: httpx.AsyncClient | None

    @classmethod
    def create(cls, settings: Settings) -> Services:
        engine = create_engine(settings)
        mcp = McpTaskClient(
            settings.mcp_server_url,
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
        return cls(settings, engine, create_session_factory(engine), mcp, ChatAgent(llm), llm_http)

    async def aclose(self) -> None:
        await self.mcp.aclose()
        if self.llm_http is not None:
            await self.llm_http.aclose()
        await self.engine.dispose()
