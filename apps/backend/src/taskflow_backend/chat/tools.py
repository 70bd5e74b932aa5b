"""What the chat agent needs from the MCP side: a way to call a tool, and a log of the calls made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from taskflow_backend.mcp_client.client import McpToolError
from taskflow_backend.schemas.chat import ToolCallRecord


class ToolCaller(Protocol):
    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class RecordingToolbox:
    """Calls tools for one user (injecting `user_id`) and keeps a record of every call."""

    caller: ToolCaller
    user_id: str
    calls: list[ToolCallRecord] = field(default_factory=list)

    async def call(self, name: str, **arguments: Any) -> dict[str, Any]:
        """Return the tool's structured result; McpToolError (recorded) when the tool refused."""
        record = ToolCallRecord(name=name, arguments=arguments)
        self.calls.append(record)
        try:
            record.result = await self.caller.call_tool(name, {"user_id": self.user_id, **arguments})
        except McpToolError as exc:
            record.error = str(exc)
            raise
        return record.result
