"""The task tools. The acting user comes from the verified call token (auth.caller), never from the
arguments; each tool runs the backend's own queries."""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from taskflow_backend.crud import tasks as crud
from taskflow_backend.crud.tasks import MAX_LIMIT, TaskStatus
from taskflow_backend.schemas.tasks import Description, TaskRead, Title

from taskflow_mcp.auth import caller
from taskflow_mcp.results import DeletedTask, TaskList

TaskId = Annotated[int, Field(ge=1, le=2**31 - 1, description="The task's id")]


class PoolSource:
    """Where the tools get the database pool; filled in when the app starts."""

    def __init__(self) -> None:
        self._pool: asyncpg.Pool | None = None

    def bind(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def __call__(self) -> asyncpg.Pool:
        if self._pool is None:
            raise ToolError("the database is not connected yet")
        return self._pool


def _task(row: asyncpg.Record | None, task_id: int) -> TaskRead:
    if row is None:
        raise ToolError(f"task {task_id} not found")
    return TaskRead.model_validate(dict(row))


def register_tools(server: MCPServer, db: PoolSource) -> None:
    @server.tool()
    async def add_task(ctx: Context, title: Title, description: Description = "") -> TaskRead:
        """Add a task for the user; returns the new task."""
        user_id = caller(ctx)
        try:
            return TaskRead.model_validate(dict(await crud.create_task(db(), user_id, title, description)))
        except asyncpg.ForeignKeyViolationError as exc:
            raise ToolError("unknown user") from exc

    @server.tool()
    async def list_tasks(ctx: Context, status: Literal["all", "pending", "completed"] = "all") -> TaskList:
        """List the user's tasks: all of them, or only the pending or completed ones."""
        rows = await crud.list_tasks(db(), caller(ctx), TaskStatus(status), limit=MAX_LIMIT)
        tasks = [TaskRead.model_validate(dict(row)) for row in rows]
        return TaskList(status=status, count=len(tasks), tasks=tasks)

    @server.tool()
    async def complete_task(ctx: Context, task_id: TaskId, completed: bool = True) -> TaskRead:
        """Mark a task complete (or, with completed=false, pending again)."""
        return _task(await crud.update_task(db(), caller(ctx), task_id, completed=completed), task_id)

    @server.tool()
    async def delete_task(ctx: Context, task_id: TaskId) -> DeletedTask:
        """Delete a task; returns what was deleted."""
        row = await crud.delete_task(db(), caller(ctx), task_id)
        if row is None:
            raise ToolError(f"task {task_id} not found")
        return DeletedTask(id=row["id"], title=row["title"])

    @server.tool()
    async def update_task(
        ctx: Context,
        task_id: TaskId,
        title: Title | None = None,
        description: Description | None = None,
        completed: bool | None = None,
    ) -> TaskRead:
        """Change a task's title, description or completion; fields left out keep their value."""
        if title is None and description is None and completed is None:
            raise ToolError("give at least one of title, description, completed")
        row = await crud.update_task(
            db(), caller(ctx), task_id, title=title, description=description, completed=completed
        )
        return _task(row, task_id)


__all__ = ["PoolSource", "register_tools"]
