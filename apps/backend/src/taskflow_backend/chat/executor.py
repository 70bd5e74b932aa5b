"""Carry out a parsed intent with MCP tool calls and phrase the answer."""

from __future__ import annotations

from typing import Any

from taskflow_backend.chat.parser import (
    AddTask,
    DeleteTask,
    Intent,
    ListTasks,
    RenameTask,
    SetCompleted,
    TaskRef,
    Unrecognised,
)
from taskflow_backend.chat.tools import RecordingToolbox
from taskflow_backend.crud.tasks import TaskStatus
from taskflow_backend.mcp_client.client import McpToolError

HELP = (
    'I can manage your tasks. Try: "add a task to buy milk", "what\'s pending?", '
    '"show completed tasks", "mark task 3 as complete", "rename task 2 to call mom", '
    '"delete the meeting task".'
)


class _UnresolvedError(Exception):
    """The reference matched no task, or more than one; the message says which."""


async def execute(intent: Intent, tools: RecordingToolbox) -> str:
    try:
        return await _execute(intent, tools)
    except (McpToolError, _UnresolvedError) as exc:
        return f"Sorry, I couldn't do that: {exc}."


async def _execute(intent: Intent, tools: RecordingToolbox) -> str:
    match intent:
        case AddTask(title=title):
            task = await tools.call("add_task", title=title)
            return f"Added task {task['id']}: {task['title']}."
        case ListTasks(status=status):
            result = await tools.call("list_tasks", status=status.value)
            return _describe_list(result["tasks"], status)
        case SetCompleted(ref=ref, completed=completed):
            task_id = await _resolve(ref, tools, prefer_completed=not completed)
            task = await tools.call("complete_task", task_id=task_id, completed=completed)
            state = "complete" if completed else "pending"
            return f"Marked task {task['id']} ({task['title']}) as {state}."
        case DeleteTask(ref=ref):
            task_id = await _resolve(ref, tools)
            deleted = await tools.call("delete_task", task_id=task_id)
            return f"Deleted task {deleted['id']} ({deleted['title']})."
        case RenameTask(ref=ref, title=title):
            task_id = await _resolve(ref, tools)
            task = await tools.call("update_task", task_id=task_id, title=title)
            return f"Renamed task {task['id']} to {task['title']}."
        case Unrecognised():
            return HELP


async def _resolve(ref: TaskRef, tools: RecordingToolbox, prefer_completed: bool | None = None) -> int:
    """The id of the task `ref` names: an id as given, or the one task whose title contains the text."""
    if isinstance(ref, int):
        return ref
    tasks: list[dict[str, Any]] = (await tools.call("list_tasks", status=TaskStatus.ALL.value))["tasks"]
    wanted = ref.casefold()
    matches = [task for task in tasks if wanted in task["title"].casefold()]
    exact = [task for task in matches if task["title"].casefold() == wanted]
    if prefer_completed is not None and len(matches) > 1:
        matches = [task for task in matches if task["completed"] == prefer_completed] or matches
    candidates = exact or matches
    if not candidates:
        raise _UnresolvedError(f'no task matches "{ref}"')
    if len(candidates) > 1:
        listed = ", ".join(f"{task['id']} ({task['title']})" for task in candidates[:5])
        raise _UnresolvedError(f'"{ref}" matches several tasks: {listed}; say which by number')
    return int(candidates[0]["id"])


def _describe_list(tasks: list[dict[str, Any]], status: TaskStatus) -> str:
    kind = "" if status is TaskStatus.ALL else f"{status.value} "
    if not tasks:
        return f"You have no {kind}tasks."
    noun = "task" if len(tasks) == 1 else "tasks"
    lines = [f"You have {len(tasks)} {kind}{noun}:"]
    lines += [f"- {task['id']}: {task['title']}{' (done)' if task['completed'] else ''}" for task in tasks]
    return "\n".join(lines)
