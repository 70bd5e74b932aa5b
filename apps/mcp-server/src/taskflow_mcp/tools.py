"""The task tools. Each takes the acting user's id and runs the backend's own queries."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskflow_backend.crud import tasks as crud
from taskflow_backend.crud.tasks import TaskStatus
from taskflow_backend.db.models import Task
from taskflow_backend.schemas.tasks import Description, TaskRead, Title

from taskflow_mcp.results import DeletedTask, TaskList

UserId = Annotated[uuid.UUID, Field(description="The id of the user whose tasks these are")]
TaskId = Annotated[int, Field(ge=1, le=2**31 - 1, description="The task's id")]


class SessionSource:
    """Where the tools get database sessions; filled in when the app starts."""

    def __init__(self) -> None:
        self._factory: async_sessionmaker[AsyncSession] | None = None

    def bind(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    def __call__(self) -> AsyncSession:
        if self._factory is None:
            raise RuntimeError("the database is not connected yet")
        return self._factory()


def _found(task: Task | None, task_id: int) -> TaskRead:
    if task is None:
        raise ToolError(f"task {task_id} not found")
    return TaskRead.model_validate(task)


def register_tools(server: MCPServer, sessions: SessionSource) -> None:
    @server.tool()
    async def add_task(user_id: UserId, title: Title, description: Description = "") -> TaskRead:
        """Add a task for the user; returns the new task."""
        async with sessions() as session:
            try:
                return TaskRead.model_validate(await crud.create_task(session, user_id, title, description))
            except IntegrityError as exc:
                raise ToolError(f"unknown user {user_id}") from exc

    @server.tool()
    async def list_tasks(user_id: UserId, status: Literal["all", "pending", "completed"] = "all") -> TaskList:
        """List the user's tasks: all of them, or only the pending or completed ones."""
        async with sessions() as session:
            tasks = [
                TaskRead.model_validate(t)
                for t in await crud.list_tasks(session, user_id, TaskStatus(status))
            ]
        return TaskList(status=status, count=len(tasks), tasks=tasks)

    @server.tool()
    async def complete_task(user_id: UserId, task_id: TaskId, completed: bool = True) -> TaskRead:
        """Mark a task complete (or, with completed=false, pending again)."""
        async with sessions() as session:
            return _found(await crud.update_task(session, user_id, task_id, completed=completed), task_id)

    @server.tool()
    async def delete_task(user_id: UserId, task_id: TaskId) -> DeletedTask:
        """Delete a task; returns what was deleted."""
        async with sessions() as session:
            task = await crud.delete_task(session, user_id, task_id)
        if task is None:
            raise ToolError(f"task {task_id} not found")
        return DeletedTask(id=task.id, title=task.title)

    @server.tool()
    async def update_task(
        user_id: UserId,
        task_id: TaskId,
        title: Title | None = None,
        description: Description | None = None,
        completed: bool | None = None,
    ) -> TaskRead:
        """Change a task's title, description or completion; fields left out keep their value."""
        if title is None and description is None and completed is None:
            raise ToolError("give at least one of title, description, completed")
        async with sessions() as session:
            task = await crud.update_task(
                session, user_id, task_id, title=title, description=description, completed=completed
            )
            return _found(task, task_id)
