"""The optional OpenAI-compatible agent, against a scripted model endpoint and a fake tool caller."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from app_processes import run_async
from taskflow_backend.chat.agent import ChatAgent
from taskflow_backend.chat.llm import LlmAgent
from taskflow_backend.chat.tools import RecordingToolbox


class FakeTools:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], uuid.UUID]] = []

    async def call_tool(self, name: str, arguments: dict[str, Any], *, user_id: uuid.UUID) -> dict[str, Any]:
        self.calls.append((name, arguments, user_id))
        return {"id": 1, "title": arguments.get("title", ""), "completed": False}


USER = uuid.UUID("00000000-0000-4000-8000-000000000001")


def _model(replies: list[dict[str, Any]], requests: list[dict[str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/chat/completions"
        requests.append(json.loads(request.content))
        return httpx.Response(200, json={"choices": [{"message": replies.pop(0)}]})

    return httpx.MockTransport(handle)


def test_model_tool_calls_go_to_the_tools_with_the_user_id() -> None:
    replies = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call-1",
                    "type": "function",
                    "function": {
                        "name": "add_task",
                        "arguments": '{"title": "buy milk", "user_id": "forged"}',
                    },
                }
            ],
        },
        {"role": "assistant", "content": "Added buy milk."},
    ]
    requests: list[dict[str, Any]] = []
    tools = FakeTools()

    async def run() -> str:
        async with httpx.AsyncClient(
            base_url="http://model/v1/", transport=_model(replies, requests)
        ) as http:
            agent = ChatAgent(LlmAgent(http, "test-model"))
            return await agent.reply("add a task to buy milk", [], RecordingToolbox(tools, USER))

    assert run_async(run) == "Added buy milk."
    # The forged user_id argument is dropped; the call goes out as the path user (in the MCP token).
    assert tools.calls == [("add_task", {"title": "buy milk"}, USER)]
    assert requests[0]["model"] == "test-model"
    assert {tool["function"]["name"] for tool in requests[0]["tools"]} >= {"add_task", "list_tasks"}
    assert requests[1]["messages"][-1]["role"] == "tool"


def test_a_failing_model_falls_back_to_the_parser() -> None:
    tools = FakeTools()

    async def run() -> str:
        failing = httpx.MockTransport(lambda request: httpx.Response(500))
        async with httpx.AsyncClient(base_url="http://model/v1/", transport=failing) as http:
            agent = ChatAgent(LlmAgent(http, "test-model"))
            return await agent.reply("add a task to buy milk", [], RecordingToolbox(tools, USER))

    assert run_async(run) == "Added task 1: buy milk."
    assert tools.calls == [("add_task", {"title": "buy milk"}, USER)]


def test_model_arguments_named_like_call_parameters_are_passed_on_not_a_crash() -> None:
    replies = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call-1",
                    "type": "function",
                    "function": {
                        "name": "add_task",
                        "arguments": '{"title": "x", "name": "y", "arguments": 1}',
                    },
                }
            ],
        },
        {"role": "assistant", "content": "Done."},
    ]
    tools = FakeTools()

    async def run() -> str:
        async with httpx.AsyncClient(base_url="http://model/v1/", transport=_model(replies, [])) as http:
            return await ChatAgent(LlmAgent(http, "test-model")).reply(
                "add x", [], RecordingToolbox(tools, USER)
            )

    assert run_async(run) == "Done."
    assert tools.calls == [("add_task", {"title": "x", "name": "y", "arguments": 1}, USER)]
