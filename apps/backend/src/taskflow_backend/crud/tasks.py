"""Task queries: one statement, one round trip each, always scoped to the owner, so a user never
reaches another user's task. Rows come back as asyncpg Records (id, title, description, completed,
created_at, updated_at)."""

from __future__ import annotations

import uuid
from enum import StrEnum

import asyncpg

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

_COLUMNS = "id, title, description, completed, created_at, updated_at"
_FILTERS = {
    "all": "",
    "pending": " AND completed = false",
    "completed": " AND completed = true",
}
_LIST = {
    status: f"SELECT {_COLUMNS} FROM tasks WHERE user_id = $1{condition} ORDER BY id LIMIT $2 OFFSET $3"
    for status, condition in _FILTERS.items()
}
_GET = f"SELECT {_COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2"
_INSERT = (
    "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at) "
    f"VALUES ($1, $2, $3, false, now(), now()) RETURNING {_COLUMNS}"
)
_UPDATE = (
    "UPDATE tasks SET title = coalesce($3, title), description = coalesce($4, description), "
    "completed = coalesce($5, completed), updated_at = now() "
    f"WHERE user_id = $1 AND id = $2 RETURNING {_COLUMNS}"
)
_TOGGLE = (
    "UPDATE tasks SET completed = NOT completed, updated_at = now() "
    f"WHERE user_id = $1 AND id = $2 RETURNING {_COLUMNS}"
)
_DELETE = f"DELETE FROM tasks WHERE user_id = $1 AND id = $2 RETURNING {_COLUMNS}"


class TaskStatus(StrEnum):
    ALL = "all"
    PENDING = "pending"
    COMPLETED = "completed"


async def list_tasks(
    db: asyncpg.Pool,
    user_id: uuid.UUID,
    status: TaskStatus = TaskStatus.ALL,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[asyncpg.Record]:
    """The user's tasks in id order, `limit` of them from `offset`."""
    rows: list[asyncpg.Record] = await db.fetch(_LIST[status.value], user_id, limit, offset)
    return rows


async def get_task(db: asyncpg.Pool, user_id: uuid.UUID, task_id: int) -> asyncpg.Record | None:
    return await db.fetchrow(_GET, user_id, task_id)


async def create_task(
    db: asyncpg.Pool, user_id: uuid.UUID, title: str, description: str = ""
) -> asyncpg.Record:
    """Insert and return the task (raises asyncpg.ForeignKeyViolationError for an unknown user)."""
    row = await db.fetchrow(_INSERT, user_id, title, description)
    assert row is not None  # INSERT ... RETURNING always returns the row
    return row


async def update_task(
    db: asyncpg.Pool,
    user_id: uuid.UUID,
    task_id: int,
    *,
    title: str | None = None,
    description: str | None = None,
    completed: bool | None = None,
) -> asyncpg.Record | None:
    """Change the given fields; None leaves a field as it is. None when the user has no such task."""
    return await db.fetchrow(_UPDATE, user_id, task_id, title, description, completed)


async def toggle_completed(db: asyncpg.Pool, user_id: uuid.UUID, task_id: int) -> asyncpg.Record | None:
    return await db.fetchrow(_TOGGLE, user_id, task_id)


async def delete_task(db: asyncpg.Pool, user_id: uuid.UUID, task_id: int) -> asyncpg.Record | None:
    """Delete and return the task, or None when the user has no such task."""
    return await db.fetchrow(_DELETE, user_id, task_id)
