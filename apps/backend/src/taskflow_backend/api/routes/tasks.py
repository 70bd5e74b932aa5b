"""Tasks CRUD and the complete toggle, always scoped to the authenticated path user.

Handlers answer with JSON serialised straight from the database rows (pydantic-core's serialiser,
the same output TaskRead would give): the rows are already the schema's types, so validating them
again per request would only cost CPU. `response_model` still documents the shape.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic_core import to_json

from taskflow_backend.api.deps import PathUser, ServicesDep
from taskflow_backend.crud import tasks as crud
from taskflow_backend.crud.tasks import DEFAULT_LIMIT, MAX_LIMIT, TaskStatus
from taskflow_backend.schemas.chat import ErrorResponse
from taskflow_backend.schemas.tasks import TaskCreate, TaskRead, TaskUpdate

MAX_TASK_ID = 2**31 - 1

TaskId = Annotated[int, Path(ge=1, le=MAX_TASK_ID, description="The task's id")]

_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing, invalid or expired token"},
    403: {"model": ErrorResponse, "description": "The path names another user"},
}
_TASK_RESPONSES = {
    **_AUTH_RESPONSES,
    404: {"model": ErrorResponse, "description": "No such task for this user"},
}

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=_AUTH_RESPONSES)


def _json(content: Any, status_code: int = 200) -> Response:
    return Response(to_json(content), status_code=status_code, media_type="application/json")


def _found(row: asyncpg.Record | None, task_id: int) -> Response:
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} not found")
    return _json(dict(row))


@router.get("", response_model=list[TaskRead])
async def list_tasks(
    user: PathUser,
    services: ServicesDep,
    status_filter: Annotated[TaskStatus, Query(alias="status")] = TaskStatus.ALL,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many tasks")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_TASK_ID, description="Skip this many tasks first")] = 0,
) -> Response:
    """The user's tasks in creation order, `limit` (default 100) at a time from `offset`."""
    rows = await crud.list_tasks(services.db, user, status_filter, limit=limit, offset=offset)
    return _json([dict(row) for row in rows])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskRead)
async def create_task(body: TaskCreate, user: PathUser, services: ServicesDep) -> Response:
    try:
        row = await crud.create_task(services.db, user, body.title, body.description)
    except asyncpg.ForeignKeyViolationError as exc:
        # A valid token for an account that no longer exists.
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown user") from exc
    return _json(dict(row), status.HTTP_201_CREATED)


@router.get("/{task_id}", responses=_TASK_RESPONSES, response_model=TaskRead)
async def get_task(task_id: TaskId, user: PathUser, services: ServicesDep) -> Response:
    return _found(await crud.get_task(services.db, user, task_id), task_id)


@router.put("/{task_id}", responses=_TASK_RESPONSES, response_model=TaskRead)
async def update_task(task_id: TaskId, body: TaskUpdate, user: PathUser, services: ServicesDep) -> Response:
    row = await crud.update_task(
        services.db, user, task_id, title=body.title, description=body.description, completed=body.completed
    )
    return _found(row, task_id)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_TASK_RESPONSES)
async def delete_task(task_id: TaskId, user: PathUser, services: ServicesDep) -> Response:
    if await crud.delete_task(services.db, user, task_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{task_id}/complete", responses=_TASK_RESPONSES, response_model=TaskRead)
async def toggle_complete(task_id: TaskId, user: PathUser, services: ServicesDep) -> Response:
    return _found(await crud.toggle_completed(services.db, user, task_id), task_id)
