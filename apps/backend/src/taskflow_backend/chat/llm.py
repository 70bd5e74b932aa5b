"""An OpenAI-compatible model as the chat agent, used only when LLM_BASE_URL and LLM_MODEL are set.

The model sees the task tools (without `user_id`, which the backend supplies) and may call them
over a few rounds; every call still goes through the MCP server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from taskflow_backend.chat.tools import RecordingToolbox
from taskflow_backend.mcp_client.client import McpToolError

MAX_ROUNDS = 5

SYSTEM_PROMPT = (
    "You manage the user's to-do list with the tools given. Use list_tasks to find a task's id before "
    "changing a task you only know by name. Answer briefly in plain English."
)

_TASK_ID = {"type": "integer", "minimum": 1}
TOOL_SPECS: list[dict[str, Any]] = [
    {
        "name": "add_task",
        "description": "Add a task.",
        "parameters": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "description": {"type": "string"}},
            "required": ["title"],
        },
    },
    {
        "name": "list_tasks",
        "description": "List tasks, optionally only pending or completed ones.",
        "parameters": {
            "type": "object",
            "properties": {"status": {"type": "string", "enum": ["all", "pending", "completed"]}},
        },
    },
    {
        "name": "complete_task",
        "description": "Mark a task complete (or pending with completed=false).",
        "parameters": {
            "type": "object",
            "properties": {"task_id": _TASK_ID, "completed": {"type": "boolean"}},
            "required": ["task_id"],
        },
    },
    {
        "name": "delete_task",
        "description": "Delete a task.",
        "parameters": {"type": "object", "properties": {"task_id": _TASK_ID}, "required": ["task_id"]},
    },
    {
        "name": "update_task",
        "description": "Change a task's title, description or completion.",
        "parameters": {
            "type": "object",
            "properties": {
                "task_id": _TASK_ID,
                "title": {"type": "string"},
                "description": {"type": "string"},
                "completed": {"type": "boolean"},
            },
            "required": ["task_id"],
        },
    },
]
_TOOL_NAMES = {spec["name"] for spec in TOOL_SPECS}


class LlmError(Exception):
    """The model endpoint failed or answered something unusable."""


class LlmAgent:
    def __init__(self, http: httpx.AsyncClient, model: str) -> None:
        self._http = http
        self._model = model

    async def reply(self, message: str, history: Sequence[tuple[str, str]], tools: RecordingToolbox) -> str:
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
        messages += [{"role": role, "content": content} for role, content in history]
        messages.append({"role": "user", "content": message})
        for _ in range(MAX_ROUNDS):
            choice = await self._complete(messages)
            calls = choice.get("tool_calls") or []
            if not calls:
                return str(choice.get("content") or "").strip() or "Done."
            messages.append(choice)
            for call in calls:
                messages.append(
                    {"role": "tool", "tool_call_id": call.get("id", ""), "content": await _run(call, tools)}
                )
        raise LlmError(f"no answer after {MAX_ROUNDS} rounds of tool calls")

    async def _complete(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        body = {
            "model": self._model,
            "messages": messages,
            "tools": [{"type": "function", "function": spec} for spec in TOOL_SPECS],
        }
        try:
            response = await self._http.post("chat/completions", json=body)
            response.raise_for_status()
            message: dict[str, Any] = response.json()["choices"][0]["message"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise LlmError(f"model endpoint: {exc}") from exc
        return message


async def _run(call: dict[str, Any], tools: RecordingToolbox) -> str:
    function = call.get("function") or {}
    name = function.get("name")
    if name not in _TOOL_NAMES:
        return json.dumps({"error": f"unknown tool {name!r}"})
    try:
        arguments = json.loads(function.get("arguments") or "{}")
        if not isinstance(arguments, dict):
            raise ValueError("arguments must be an object")
        # The arguments go as one dict: a model's argument named like a parameter of `call` (e.g.
        # "name") must not collide with it. The toolbox drops any `user_id`.
        return json.dumps(await tools.call(str(name), arguments))
    except (ValueError, McpToolError) as exc:
        return json.dumps({"error": str(exc)})
