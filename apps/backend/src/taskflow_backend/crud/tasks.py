"""Task queries. Every one is scoped to its owner: a user never reaches another user's task."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from taskflow_backend.db.models import Task


class TaskStatus(StrEnum):
    ALL = "all"
    PENDING = "pending"
    COMPLETED = "completed"


async def list_tasks(
    session: AsyncSession, user_id: uuid.UUID, status: TaskStatus = TaskStatus.ALL
) -> Sequence[Task]:
    query = select(Task).where(Task.user_id == user_id).order_by(Task.id)
    if status is TaskStatus.PENDING:
        query = query.where(Task.completed.is_(False))
    elif status is TaskStatus.COMPLETED:
        query = query.where(Task.completed.is_(True))
    return (await session.scalars(query)).all()


async def get_task(session: AsyncSession, user_id: uuid.UUID, task_id: int) -> Task | None:
    query = select(Task).where(Task.user_id == user_id, Task.id == task_id)
    return (await session.scalars(query)).one_or_none()


async def create_task(session: AsyncSession, user_id: uuid.UUID, title: str, description: str = "") -> Task:
    statement = (
        insert(Task)
        .values(user_id=user_id, title=title, description=description, completed=False)
        .returning(Task)
    )
    task = (await session.scalars(statement)).one()
    await session.commit()
    return task


async def _update(
    session: AsyncSession, user_id: uuid.UUID, task_id: int, values: dict[str, Any]
) -> Task | None:
    statement = (
        update(Task)
        .where(Task.user_id == user_id, Task.id == task_id)
        .values(**values, updated_at=func.now())
        .returning(Task)
        .execution_options(synchronize_session=False)
    )
    task = (await session.scalars(statement)).one_or_none()
    await session.commit()
    return task


async def update_task(
    session: AsyncSession,
    user_id: uuid.UUID,
    task_id: int,
    *,
    title: str | None = None,
    description: str | None = None,
    completed: bool | None = None,
) -> Task | None:
    """Change the given fields; None leaves a field as it is. None when the user has no such task."""
    values: dict[str, Any] = {
        key: value
        for key, value in (("title", title), ("description", description), ("completed", completed))
        if value is not None
    }
    return await _update(session, user_id, task_id, values)


async def toggle_completed(session: AsyncSession, user_id: uuid.UUID, task_id: int) -> Task | None:
    return await _update(session, user_id, task_id, {"completed": ~Task.completed})


async def delete_task(session: AsyncSession, user_id: uuid.UUID, task_id: int) -> Task | None:
    """Delete and return the task, or None when the user has no such task."""
    statement = delete(Task).where(Task.user_id == user_id, Task.id == task_id).returning(Task)
    task = (await session.scalars(statement)).one_or_none()
    await session.commit()
    return task
