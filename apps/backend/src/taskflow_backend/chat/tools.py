"""What the chat agent needs from the MCP side: a way to call a tool, and a log of the calls made."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from taskflow_backend.mcp_client.client import McpToolError
from taskflow_backend.schemas.chat import ToolCallRecord


class ToolCaller(Protocol):
    async def call_tool(
        self, name: str, arguments: dict[str, Any], *, user_id: uuid.UUID
    ) -> dict[str, Any]: ...


@dataclass
class RecordingToolbox:
    """Calls tools on behalf of one user and keeps a record of every call. The user travels in the
    signed token the caller attaches, never in the arguments: a `user_id` argument is dropped."""

    caller: ToolCaller
    user_id: uuid.UUID
    calls: list[ToolCallRecord] = field(default_factory=list)

    async def call(
        self, name: str, arguments: dict[str, Any] | None = None, /, **keyword: Any
    ) -> dict[str, Any]:
        """Return the tool's structured result; McpToolError (recorded) when the tool refused."""
        given = {**(arguments or {}), **keyword}
        given.pop("user_id", None)
        record = ToolCallRecord(name=name, arguments=given)
        self.calls.append(record)
        try:
            record.result = await self.caller.call_tool(name, given, user_id=self.user_id)
        except McpToolError as exc:
            record.error = str(exc)
            raise
        return record.result
