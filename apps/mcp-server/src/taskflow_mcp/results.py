"""The tools' structured results."""

from __future__ import annotations

from pydantic import BaseModel
from taskflow_backend.schemas.tasks import TaskRead


class TaskList(BaseModel):
    status: str
    count: int
    tasks: list[TaskRead]


class DeletedTask(BaseModel):
    id: int
    title: str
    deleted: bool = True
