"""The backend's MCP client: the official SDK over streamable HTTP, bounded in time.

Each tool call is one stateless exchange with the server (the protocol version is pinned, so there
is no handshake round trip), over a shared HTTP connection pool. Every call carries a short-lived
token (audience "mcp", subject the user) signed with MCP_TOKEN_SECRET: the server takes the user
from it, never from the arguments. A call that cannot connect within
the connect timeout, or finish within the total timeout, fails; the circuit breaker then spares
the following calls the wait.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Generator
from contextvars import ContextVar
from typing import Any

import anyio
import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import TextContent

from taskflow_backend.core.security import TokenCodec
from taskflow_backend.mcp_client.breaker import BreakerState, CircuitBreaker, CircuitOpenError
from taskflow_backend.metrics import MCP_BREAKER_OPEN, MCP_CALLS

PROTOCOL_VERSION = "2026-07-28"

logger = logging.getLogger(__name__)

# The token of the call in progress; the transport's request tasks start inside it, so they see it.
_call_token: ContextVar[str | None] = ContextVar("mcp_call_token", default=None)


class _CallTokenAuth(httpx2.Auth):
    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        token = _call_token.get()
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


class McpUnavailableError(Exception):
    """The MCP server could not be reached in time, or the breaker is open."""

    def __init__(self, reason: str, retry_after_seconds: int) -> None:
        super().__init__(reason)
        # A fixed phrase, safe to show a client; the underlying error is logged, not returned.
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


class McpToolError(Exception):
    """The MCP server answered, and the tool reported an error (e.g. no such task)."""


class McpTaskClient:
    def __init__(
        self,
        url: str,
        *,
        tokens: TokenCodec,
        token_ttl_seconds: int,
        connect_timeout: float,
        total_timeout: float,
        retry_after_seconds: int,
        breaker: CircuitBreaker,
    ) -> None:
        self._url = url
        self._tokens = tokens
        self._token_ttl_seconds = token_ttl_seconds
        self._total_timeout = total_timeout
        self._retry_after_seconds = retry_after_seconds
        self._breaker = breaker
        self._http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(total_timeout, connect=connect_timeout), auth=_CallTokenAuth()
        )

    @property
    def breaker_state(self) -> BreakerState:
        return self._breaker.state

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call_tool(self, name: str, arguments: dict[str, Any], *, user_id: uuid.UUID) -> dict[str, Any]:
        """Call one tool as `user_id` and return its structured result."""
        try:
            self._breaker.before_call()
        except CircuitOpenError as exc:
            MCP_CALLS.labels(tool=name, outcome="refused").inc()
            raise McpUnavailableError(
                "circuit open after repeated failures", max(math.ceil(exc.retry_after), 1)
            ) from exc
        token = _call_token.set(self._tokens.encode(user_id, self._token_ttl_seconds))
        try:
            with anyio.fail_after(self._total_timeout):
                transport = streamable_http_client(
                    self._url, http_client=self._http, terminate_on_close=False
                )
                async with Client(transport, mode=PROTOCOL_VERSION) as client:
                    result = await client.call_tool(name, arguments)
        except Exception as exc:
            self._failed(name, exc)
            raise McpUnavailableError(_public_reason(exc), self._retry_after_seconds) from exc
        except BaseException:
            self._breaker.record_failure()
            raise
        finally:
            _call_token.reset(token)
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


def _public_reason(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _public_reason(exc.exceptions[0])
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx2.ConnectError | OSError):
        return "unreachable"
    return "failed"


def _text_of(content: list[Any]) -> str:
    return " ".join(block.text for block in content if isinstance(block, TextContent))
