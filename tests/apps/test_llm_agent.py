"""The optional OpenAI-compatible agent, against a scripted model endpoint and a fake tool caller."""

from __future__ import annotations

import json
from typing import Any

import httpx
from app_processes import run_async
from taskflow_backend.chat.agent import ChatAgent
from taskflow_backend.chat.llm import LlmAgent
from taskflow_backend.chat.tools import RecordingToolbox


class FakeTools:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, arguments))
        return {"id": 1, "title": arguments.get("title", ""), "completed": False}


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
            return await agent.reply("add a task to buy milk", [], RecordingToolbox(tools, "user-1"))

    assert run_async(run) == "Added buy milk."
    assert tools.calls == [("add_task", {"user_id": "user-1", "title": "buy milk"})]
    assert requests[0]["model"] == "test-model"
    assert {tool["function"]["name"] for tool in requests[0]["tools"]} >= {"add_task", "list_tasks"}
    assert requests[1]["messages"][-1]["role"] == "tool"


def test_a_failing_model_falls_back_to_the_parser() -> None:
    tools = FakeTools()

    async def run() -> str:
        failing = httpx.MockTransport(lambda request: httpx.Response(500))
        async with httpx.AsyncClient(base_url="http://model/v1/", transport=failing) as http:
            agent = ChatAgent(LlmAgent(http, "test-model"))
            return await agent.reply("add a task to buy milk", [], RecordingToolbox(tools, "user-1"))

    assert run_async(run) == "Added task 1: buy milk."
    assert tools.calls == [("add_task", {"user_id": "user-1", "title": "buy milk"})]
