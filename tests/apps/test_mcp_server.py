"""The MCP server on its own, through the official SDK client over streamable HTTP, calling as a user
with the token the backend would send (audience "mcp", subject the user)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import httpx2
import pytest
from app_processes import AppProcess, SignedUpUser, run_async
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult
from taskflow_backend.core.security import MCP_AUDIENCE, TokenCodec

TOOLS = {"add_task", "list_tasks", "complete_task", "delete_task", "update_task"}


# Set by the autouse fixture below: what signs the test's call tokens.
_secret: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _token_secret(mcp_token_secret: str) -> None:
    _secret["value"] = mcp_token_secret


def mcp_token(user_id: str, secret: str | None = None) -> str:
    return TokenCodec(secret or _secret["value"], audience=MCP_AUDIENCE).encode(user_id, 60)


async def _with_client(url: str, work: Callable[[Client], Any], token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return await work(client)


def _call(mcp_server: AppProcess, name: str, arguments: dict[str, Any], *, as_user: str) -> CallToolResult:
    async def call(client: Client) -> CallToolResult:
        return await client.call_tool(name, arguments)

    result: CallToolResult = run_async(_with_client, mcp_server.base_url + "/mcp", call, mcp_token(as_user))
    return result


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def test_health(mcp_server: AppProcess) -> None:
    assert httpx.get(mcp_server.base_url + "/health").json() == {"status": "ok"}
    assert httpx.get(mcp_server.base_url + "/ready").json()["status"] == "ready"


def test_lists_the_five_task_tools_none_taking_a_user_id(mcp_server: AppProcess) -> None:
    async def list_tools(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = run_async(_with_client, mcp_server.base_url + "/mcp", list_tools, mcp_token(str(uuid.uuid4())))
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert "user_id" not in tool.input_schema.get("properties", {}), tool.name
        assert tool.output_schema is not None, tool.name
    list_tasks = next(tool for tool in tools if tool.name == "list_tasks")
    assert list_tasks.input_schema["properties"]["status"]["enum"] == ["all", "pending", "completed"]


@pytest.fixture
def user_id(signed_up_user: SignedUpUser, mcp_server: AppProcess) -> str:
    return signed_up_user.user_id


def test_tool_round_trip_with_structured_results(user_id: str, mcp_server: AppProcess) -> None:
    added = _ok(_call(mcp_server, "add_task", {"title": "buy milk", "description": "2 l"}, as_user=user_id))
    assert added["title"] == "buy milk"
    assert added["completed"] is False
    task_id = added["id"]

    listed = _ok(_call(mcp_server, "list_tasks", {"status": "pending"}, as_user=user_id))
    assert listed["count"] == 1
    assert listed["tasks"][0]["id"] == task_id

    completed = _ok(_call(mcp_server, "complete_task", {"task_id": task_id}, as_user=user_id))
    assert completed["completed"] is True
    assert _ok(_call(mcp_server, "list_tasks", {"status": "pending"}, as_user=user_id))["count"] == 0

    updated = _ok(
        _call(mcp_server, "update_task", {"task_id": task_id, "title": "oat milk"}, as_user=user_id)
    )
    assert updated["title"] == "oat milk"
    assert updated["description"] == "2 l"

    deleted = _ok(_call(mcp_server, "delete_task", {"task_id": task_id}, as_user=user_id))
    assert deleted == {"id": task_id, "title": "oat milk", "deleted": True}
    assert _ok(_call(mcp_server, "list_tasks", {}, as_user=user_id))["tasks"] == []


def test_state_is_shared_with_the_backend(signed_up_user: SignedUpUser, mcp_server: AppProcess) -> None:
    user = signed_up_user
    _ok(_call(mcp_server, "add_task", {"title": "from mcp"}, as_user=user.user_id))
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
    result = _call(mcp_server, name, arguments, as_user=user_id)
    assert result.is_error
    assert message in " ".join(getattr(block, "text", "") for block in result.content)
    assert _ok(_call(mcp_server, "list_tasks", {}, as_user=user_id))["tasks"] == []


def test_a_token_for_an_unknown_user_is_refused(mcp_server: AppProcess) -> None:
    unknown = _call(mcp_server, "add_task", {"title": "orphan"}, as_user=str(uuid.uuid4()))
    assert unknown.is_error
    assert "unknown user" in " ".join(getattr(block, "text", "") for block in unknown.content)


def test_one_user_cannot_change_another_users_task(
    user_id: str, sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess, mcp_server: AppProcess
) -> None:
    other = sign_up(backend_server.base_url).user_id
    task_id = _ok(_call(mcp_server, "add_task", {"title": "mine"}, as_user=user_id))["id"]
    for name in ("complete_task", "delete_task"):
        assert _call(mcp_server, name, {"task_id": task_id}, as_user=other).is_error
    assert _ok(_call(mcp_server, "list_tasks", {}, as_user=other))["tasks"] == []
    assert _ok(_call(mcp_server, "list_tasks", {}, as_user=user_id))["tasks"][0]["completed"] is False


def _raw_call(mcp_server: AppProcess, headers: dict[str, str], arguments: dict[str, Any]) -> httpx.Response:
    """One JSON-RPC tools/call without the SDK, as anything on the network could send it."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_tasks", "arguments": arguments},
    }
    return httpx.post(
        mcp_server.base_url + "/mcp",
        json=body,
        headers={
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2026-07-28",
            **headers,
        },
    )


def test_a_call_without_a_token_is_401_and_touches_nothing(user_id: str, mcp_server: AppProcess) -> None:
    _ok(_call(mcp_server, "add_task", {"title": "private"}, as_user=user_id))
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        response = _raw_call(mcp_server, headers, {"user_id": user_id})
        assert response.status_code == 401, (headers, response.text)
        assert "private" not in response.text
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_tokens_signed_otherwise_or_for_another_audience_are_401(
    user_id: str, mcp_server: AppProcess
) -> None:
    wrong_key = mcp_token(user_id, secret="another-secret-that-is-long-enough-0123456789")
    api_token = TokenCodec(_secret["value"]).encode(user_id, 60)  # no "mcp" audience
    expired = TokenCodec(_secret["value"], audience=MCP_AUDIENCE).encode(user_id, -10)
    for token in (wrong_key, api_token, expired):
        response = _raw_call(mcp_server, {"Authorization": f"Bearer {token}"}, {})
        assert response.status_code == 401, response.text


def test_another_users_token_cannot_reach_a_users_tasks_even_naming_them(
    user_id: str, sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess, mcp_server: AppProcess
) -> None:
    task_id = _ok(_call(mcp_server, "add_task", {"title": "mine"}, as_user=user_id))["id"]
    other = sign_up(backend_server.base_url).user_id
    # A user_id argument is not a parameter any more: it is ignored or refused, never obeyed.
    listed = _call(mcp_server, "list_tasks", {"user_id": user_id}, as_user=other)
    assert listed.is_error or _ok(listed)["tasks"] == []
    deleted = _call(mcp_server, "delete_task", {"user_id": user_id, "task_id": task_id}, as_user=other)
    assert deleted.is_error
    assert _ok(_call(mcp_server, "list_tasks", {}, as_user=user_id))["tasks"][0]["id"] == task_id


def test_a_foreign_host_header_is_refused(user_id: str, mcp_server: AppProcess) -> None:
    response = _raw_call(
        mcp_server, {"Authorization": f"Bearer {mcp_token(user_id)}", "Host": "evil.example"}, {}
    )
    assert response.status_code in (403, 421), response.text
