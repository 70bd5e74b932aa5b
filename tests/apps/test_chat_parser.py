"""The deterministic reading of plain-English chat messages."""

from __future__ import annotations

import pytest
from taskflow_backend.chat.parser import (
    AddTask,
    DeleteTask,
    Intent,
    ListTasks,
    RenameTask,
    SetCompleted,
    Unrecognised,
    parse,
)
from taskflow_backend.crud.tasks import TaskStatus

CASES: list[tuple[str, Intent]] = [
    ("add a task to buy milk", AddTask("buy milk")),
    ("Add buy bread.", AddTask("buy bread")),
    ('create a task called "call mom"', AddTask("call mom")),
    ("please add a task to water the plants", AddTask("water the plants")),
    ("remind me to pay rent", AddTask("pay rent")),
    ("new task: renew passport", AddTask("renew passport")),
    ("what's pending?", ListTasks(TaskStatus.PENDING)),
    ("What do I have left?", ListTasks(TaskStatus.PENDING)),
    ("show completed tasks", ListTasks(TaskStatus.COMPLETED)),
    ("what have I done", ListTasks(TaskStatus.COMPLETED)),
    ("list my tasks", ListTasks(TaskStatus.ALL)),
    ("show all tasks", ListTasks(TaskStatus.ALL)),
    ("mark task 3 as complete", SetCompleted(3, completed=True)),
    ("Mark task #3 done!", SetCompleted(3, completed=True)),
    ("mark the milk task as not done", SetCompleted("milk", completed=False)),
    ("complete task 4", SetCompleted(4, completed=True)),
    ("reopen task 4", SetCompleted(4, completed=False)),
    ("delete the meeting task", DeleteTask("meeting")),
    ("delete task 7", DeleteTask(7)),
    ('remove "buy milk"', DeleteTask("buy milk")),
    ("rename task 2 to buy oat milk", RenameTask(2, "buy oat milk")),
    ("rename the milk task to buy oat milk", RenameTask("milk", "buy oat milk")),
    ("change task 2 to walk the dog", RenameTask(2, "walk the dog")),
    ("update the title of task 5 to call the bank", RenameTask(5, "call the bank")),
    ("good morning", Unrecognised("good morning")),
]


@pytest.mark.parametrize(("message", "intent"), CASES, ids=[message for message, _ in CASES])
def test_parse(message: str, intent: Intent) -> None:
    assert parse(message) == intent
