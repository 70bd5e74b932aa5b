"""The backend's MCP client: the official SDK over streamable HTTP, bounded in time.

Each tool call is one stateless exchange with the server (the protocol version is pinned, so there
is no handshake round trip), over a shared HTTP connection pool. A call that cannot connect within
the connect timeout, or finish within the total timeout, fails; the circuit breaker then spares
the following calls the wait.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import anyio
import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import TextContent

from taskflow_backend.mcp_client.breaker import BreakerState, CircuitBreaker, CircuitOpenError
from taskflow_backend.metrics import MCP_BREAKER_OPEN, MCP_CALLS

PROTOCOL_VERSION = "2026-07-28"

logger = logging.getLogger(__name__)


class McpUnavailableError(Exception):
    """The MCP server could not be reached in time, or the breaker is open."""

    def __init__(self, reason: str, retry_after_seconds: int) -> None:
        super().__init__(reason)
        self.retry_after_seconds = retry_after_seconds


class McpToolError(Exception):
    """The MCP server answered, and the tool reported an error (e.g. no such task)."""


class McpTaskClient:
    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float,
        total_timeout: float,
        retry_after_seconds: int,
        breaker: CircuitBreaker,
    ) -> None:
        self._url = url
        self._total_timeout = total_timeout
        self._retry_after_seconds = retry_after_seconds
        self._breaker = breaker
        self._http = httpx2.AsyncClient(timeout=httpx2.Timeout(total_timeout, connect=connect_timeout))

    @property
    def breaker_state(self) -> BreakerState:
        return self._breaker.state

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call one tool and return its structured result."""
        try:
            self._breaker.before_call()
        except CircuitOpenError as exc:
            MCP_CALLS.labels(tool=name, outcome="refused").inc()
            raise McpUnavailableError(str(exc), max(math.ceil(exc.retry_after), 1)) from exc
        try:
            with anyio.fail_after(self._total_timeout):
                transport = streamable_http_client(
                    self._url, http_client=self._http, terminate_on_close=False
                )
                async with Client(transport, mode=PROTOCOL_VERSION) as client:
                    result = await client.call_tool(name, arguments)
        except Exception as exc:
            self._failed(name, exc)
            raise McpUnavailableError(_describe(exc), self._retry_after_seconds) from exc
        except BaseException:
            self._breaker.record_failure()
            raise
        self._breaker.record_success()
        MCP_BREAKER_OPEN.set(0)
        if result.is_error:
            MCP_CALLS.labels(tool=name, outcome="tool_error").inc()
            message = _text_of(result.content).removeprefix(f"Error executing tool {name}: ")
            raise McpToolError(message or f"{name} failed")
        MCP_CALLS.labels(tool=name, outcome="ok").inc()
        return dict(result.structured_content or {})

    def _failed(self, tool: str, exc: BaseException) -> None:
        self._breaker.record_failure()
        MCP_CALLS.labels(tool=tool, outcome="unavailable").inc()
        if self._breaker.state is not BreakerState.CLOSED:
            MCP_BREAKER_OPEN.set(1)
        logger.warning("MCP call failed", extra={"tool": tool, "error": _describe(exc)})


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"


def _text_of(content: list[Any]) -> str:
    return " ".join(block.text for block in content if isinstance(block, TextContent))
