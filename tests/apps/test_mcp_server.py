"""The MCP server on its own, through the official SDK client over streamable HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from app_processes import AppProcess, SignedUpUser, run_async
from mcp.client import Client
from mcp_types import CallToolResult

TOOLS = {"add_task", "list_tasks", "complete_task", "delete_task", "update_task"}


async def _with_client(url: str, work: Callable[[Client], Any]) -> Any:
    async with Client(url) as client:
        return await work(client)


def _call(mcp_server: AppProcess, name: str, arguments: dict[str, Any]) -> CallToolResult:
    async def call(client: Client) -> CallToolResult:
        return await client.call_tool(name, arguments)

    result: CallToolResult = run_async(_with_client, mcp_server.base_url + "/mcp", call)
    return result


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def test_health(mcp_server: AppProcess) -> None:
    assert httpx.get(mcp_server.base_url + "/health").json() == {"status": "ok"}
    assert httpx.get(mcp_server.base_url + "/ready").json()["status"] == "ready"


def test_lists_the_five_task_tools_each_taking_user_id(mcp_server: AppProcess) -> None:
    async def list_tools(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = run_async(_with_client, mcp_server.base_url + "/mcp", list_tools)
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert "user_id" in tool.input_schema["required"], tool.name
        assert tool.output_schema is not None, tool.name
    list_tasks = next(tool for tool in tools if tool.name == "list_tasks")
    assert list_tasks.input_schema["properties"]["status"]["enum"] == ["all", "pending", "completed"]


@pytest.fixture
def user_id(signed_up_user: SignedUpUser, mcp_server: AppProcess) -> str:
    return signed_up_user.user_id


def test_tool_round_trip_with_structured_results(user_id: str, mcp_server: AppProcess) -> None:
    added = _ok(
        _call(mcp_server, "add_task", {"user_id": user_id, "title": "buy milk", "description": "2 l"})
    )
    assert added["title"] == "buy milk"
    assert added["completed"] is False
    task_id = added["id"]

    listed = _ok(_call(mcp_server, "list_tasks", {"user_id": user_id, "status": "pending"}))
    assert listed["count"] == 1
    assert listed["tasks"][0]["id"] == task_id

    completed = _ok(_call(mcp_server, "complete_task", {"user_id": user_id, "task_id": task_id}))
    assert completed["completed"] is True
    assert _ok(_call(mcp_server, "list_tasks", {"user_id": user_id, "status": "pending"}))["count"] == 0

    updated = _ok(
        _call(mcp_server, "update_task", {"user_id": user_id, "task_id": task_id, "title": "oat milk"})
    )
    assert updated["title"] == "oat milk"
    assert updated["description"] == "2 l"

    deleted = _ok(_call(mcp_server, "delete_task", {"user_id": user_id, "task_id": task_id}))
    assert deleted == {"id": task_id, "title": "oat milk", "deleted": True}
    assert _ok(_call(mcp_server, "list_tasks", {"user_id": user_id}))["tasks"] == []


def test_state_is_shared_with_the_backend(signed_up_user: SignedUpUser, mcp_server: AppProcess) -> None:
    user = signed_up_user
    _ok(_call(mcp_server, "add_task", {"user_id": user.user_id, "title": "from mcp"}))
    assert [task["title"] for task in user.client.get(user.tasks_path).json()] == ["from mcp"]


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("complete_task", {"task_id": 987654}, "task 987654 not found"),
        ("delete_task", {"task_id": 987654}, "task 987654 not found"),
        ("update_task", {"task_id": 987654, "title": "x"}, "task 987654 not found"),
        ("update_task", {"task_id": 1}, "give at least one of"),
        ("add_task", {"title": "x" * 201}, "title"),
        ("add_task", {"title": "   "}, "blank"),
        ("add_task", {}, "title"),
        ("list_tasks", {"status": "someday"}, "status"),
        ("complete_task", {"task_id": 0}, "task_id"),
    ],
)
def test_bad_calls_are_tool_errors_that_say_why(
    user_id: str, mcp_server: AppProcess, name: str, arguments: dict[str, Any], message: str
) -> None:
    result = _call(mcp_server, name, {"user_id": user_id, **arguments})
    assert result.is_error
    assert message in " ".join(getattr(block, "text", "") for block in result.content)
    assert _ok(_call(mcp_server, "list_tasks", {"user_id": user_id}))["tasks"] == []


def test_unknown_or_malformed_user_ids_are_refused(mcp_server: AppProcess) -> None:
    unknown = _call(mcp_server, "add_task", {"user_id": str(uuid.uuid4()), "title": "orphan"})
    assert unknown.is_error
    assert "unknown user" in " ".join(getattr(block, "text", "") for block in unknown.content)
    assert _call(mcp_server, "list_tasks", {"user_id": "not-a-uuid"}).is_error


def test_one_user_cannot_change_another_users_task(
    user_id: str, sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess, mcp_server: AppProcess
) -> None:
    other = sign_up(backend_server.base_url).user_id
    task_id = _ok(_call(mcp_server, "add_task", {"user_id": user_id, "title": "mine"}))["id"]
    for name in ("complete_task", "delete_task"):
        assert _call(mcp_server, name, {"user_id": other, "task_id": task_id}).is_error
    assert _ok(_call(mcp_server, "list_tasks", {"user_id": other}))["tasks"] == []
    assert _ok(_call(mcp_server, "list_tasks", {"user_id": user_id}))["tasks"][0]["completed"] is False
