"""Tasks CRUD and the complete toggle, always scoped to the authenticated path user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from taskflow_backend.api.deps import PathUser, SessionDep
from taskflow_backend.crud import tasks as crud
from taskflow_backend.crud.tasks import TaskStatus
from taskflow_backend.db.models import Task
from taskflow_backend.schemas.chat import ErrorResponse
from taskflow_backend.schemas.tasks import TaskCreate, TaskRead, TaskUpdate

MAX_TASK_ID = 2**31 - 1

TaskId = Annotated[int, Path(ge=1, le=MAX_TASK_ID, description="The task's id")]

_AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "Missing, invalid or expired token"},
    403: {"model": ErrorResponse, "description": "The path names another user"},
}
_TASK_RESPONSES = {
    **_AUTH_RESPONSES,
    404: {"model": ErrorResponse, "description": "No such task for this user"},
}

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=_AUTH_RESPONSES)


def _found(task: Task | None, task_id: int) -> Task:
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} not found")
    return task


# Handlers return ORM rows; FastAPI turns them into TaskRead once, through response_model.


@router.get("", response_model=list[TaskRead])
async def list_tasks(
    user: PathUser,
    session: SessionDep,
    status_filter: Annotated[TaskStatus, Query(alias="status")] = TaskStatus.ALL,
) -> Sequence[Task]:
    return await crud.list_tasks(session, user, status_filter)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskRead)
async def create_task(body: TaskCreate, user: PathUser, session: SessionDep) -> Task:
    return await crud.create_task(session, user, body.title, body.description)


@router.get("/{task_id}", responses=_TASK_RESPONSES, response_model=TaskRead)
async def get_task(task_id: TaskId, user: PathUser, session: SessionDep) -> Task:
    return _found(await crud.get_task(session, user, task_id), task_id)


@router.put("/{task_id}", responses=_TASK_RESPONSES, response_model=TaskRead)
async def update_task(task_id: TaskId, body: TaskUpdate, user: PathUser, session: SessionDep) -> Task:
    task = await crud.update_task(
        session, user, task_id, title=body.title, description=body.description, completed=body.completed
    )
    return _found(task, task_id)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_TASK_RESPONSES)
async def delete_task(task_id: TaskId, user: PathUser, session: SessionDep) -> Response:
    _found(await crud.delete_task(session, user, task_id), task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{task_id}/complete", responses=_TASK_RESPONSES, response_model=TaskRead)
async def toggle_complete(task_id: TaskId, user: PathUser, session: SessionDep) -> Task:
    return _found(await crud.toggle_completed(session, user, task_id), task_id)
