"""Chat through the real backend and a real MCP server process, one plain-English command at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from app_processes import AppProcess, SignedUpUser


def _chat(user: SignedUpUser, message: str, conversation_id: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    response = user.client.post(user.chat_path, json=body)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def _titles(user: SignedUpUser, status: str = "all") -> dict[str, bool]:
    tasks = user.client.get(user.tasks_path, params={"status": status}).json()
    return {task["title"]: task["completed"] for task in tasks}


def _add(user: SignedUpUser, title: str) -> int:
    task_id: int = user.client.post(user.tasks_path, json={"title": title}).json()["id"]
    return task_id


def test_add_a_task(signed_up_user: SignedUpUser) -> None:
    reply = _chat(signed_up_user, "add a task to buy milk")
    assert [call["name"] for call in reply["tool_calls"]] == ["add_task"]
    assert reply["tool_calls"][0]["arguments"] == {"title": "buy milk"}
    assert "buy milk" in reply["response"]
    assert _titles(signed_up_user) == {"buy milk": False}


def test_whats_pending_and_show_completed(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    _add(user, "water plants")
    done = _add(user, "file taxes")
    user.client.patch(f"{user.tasks_path}/{done}/complete")

    pending = _chat(user, "what's pending?")
    assert pending["tool_calls"][0]["name"] == "list_tasks"
    assert pending["tool_calls"][0]["arguments"] == {"status": "pending"}
    assert "water plants" in pending["response"]
    assert "file taxes" not in pending["response"]

    completed = _chat(user, "show completed tasks")
    assert completed["tool_calls"][0]["arguments"] == {"status": "completed"}
    assert "file taxes" in completed["response"]
    assert "water plants" not in completed["response"]


def test_mark_task_n_as_complete(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    task_id = _add(user, "call the plumber")
    reply = _chat(user, f"mark task {task_id} as complete")
    assert reply["tool_calls"][0]["name"] == "complete_task"
    assert reply["tool_calls"][0]["arguments"] == {"task_id": task_id, "completed": True}
    assert _titles(user) == {"call the plumber": True}


def test_delete_a_task_by_name(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    _add(user, "prepare the meeting agenda")
    _add(user, "buy bread")
    reply = _chat(user, "delete the meeting task")
    assert [call["name"] for call in reply["tool_calls"]] == ["list_tasks", "delete_task"]
    assert "prepare the meeting agenda" in reply["response"]
    assert _titles(user) == {"buy bread": False}


def test_rename_a_task(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    task_id = _add(user, "buy milk")
    reply = _chat(user, f"rename task {task_id} to buy oat milk")
    assert reply["tool_calls"][0]["name"] == "update_task"
    assert _titles(user) == {"buy oat milk": False}


def test_a_task_that_does_not_exist_is_explained_not_an_error(signed_up_user: SignedUpUser) -> None:
    reply = _chat(signed_up_user, "mark task 999999 as done")
    assert reply["tool_calls"][0]["error"] == "task 999999 not found"
    assert "task 999999 not found" in reply["response"]


def test_an_ambiguous_name_asks_which_one(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    _add(user, "milk for the cat")
    _add(user, "milk for the tea")
    reply = _chat(user, "delete the milk task")
    assert [call["name"] for call in reply["tool_calls"]] == ["list_tasks"]
    assert "several tasks" in reply["response"]
    assert len(_titles(user)) == 2


def test_an_unrecognised_message_gets_help_without_tool_calls(signed_up_user: SignedUpUser) -> None:
    reply = _chat(signed_up_user, "good morning!")
    assert reply["tool_calls"] == []
    assert "add a task" in reply["response"]


def test_chat_cannot_reach_another_users_tasks(
    signed_up_user: SignedUpUser, sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess
) -> None:
    owner = signed_up_user
    other = sign_up(backend_server.base_url)
    task_id = _add(owner, "owner only")
    reply = _chat(other, f"delete task {task_id}")
    assert reply["tool_calls"][0]["error"] == f"task {task_id} not found"
    assert _titles(owner) == {"owner only": False}


def test_conversations_persist_in_postgres(signed_up_user: SignedUpUser, database_url: str) -> None:
    user = signed_up_user
    first = _chat(user, "add a task to book flights")
    second = _chat(user, "what's pending?", conversation_id=first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT m.role, m.content, m.tool_calls FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.id = %s AND c.user_id = %s ORDER BY m.id",
            (first["conversation_id"], user.user_id),
        ).fetchall()
    assert [(role, content) for role, content, _ in rows] == [
        ("user", "add a task to book flights"),
        ("assistant", first["response"]),
        ("user", "what's pending?"),
        ("assistant", second["response"]),
    ]
    assert rows[1][2][0]["name"] == "add_task"


def test_unknown_or_foreign_conversation_is_404(
    signed_up_user: SignedUpUser, sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess
) -> None:
    other = sign_up(backend_server.base_url)
    theirs = _chat(other, "what's pending?")["conversation_id"]
    for conversation_id in (theirs, 2**31 - 1):
        response = signed_up_user.client.post(
            signed_up_user.chat_path, json={"message": "what's pending?", "conversation_id": conversation_id}
        )
        assert response.status_code == 404
        assert response.json() == {"detail": f"conversation {conversation_id} not found"}


def test_bad_chat_bodies_are_422(signed_up_user: SignedUpUser) -> None:
    for body in ({}, {"message": ""}, {"message": "   "}, {"message": "x" * 2001}, {"message": "hi", "x": 1}):
        response = signed_up_user.client.post(signed_up_user.chat_path, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
