"""Tasks CRUD and the complete toggle, as DESIGN.md specifies them, on the real backend and database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from app_processes import AppProcess, SignedUpUser


def _create(user: SignedUpUser, title: str = "buy milk", **fields: Any) -> dict[str, Any]:
    response = user.client.post(user.tasks_path, json={"title": title, **fields})
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def test_create_read_update_toggle_delete(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    created = _create(user, "buy milk", description="2 litres")
    assert created["title"] == "buy milk"
    assert created["description"] == "2 litres"
    assert created["completed"] is False
    assert set(created) == {"id", "title", "description", "completed", "created_at", "updated_at"}
    path = f"{user.tasks_path}/{created['id']}"

    assert user.client.get(path).json() == created

    updated = user.client.put(path, json={"title": "buy oat milk"})
    assert updated.status_code == 200
    assert updated.json()["title"] == "buy oat milk"
    assert updated.json()["description"] == "2 litres"
    assert updated.json()["updated_at"] >= created["updated_at"]

    toggled = user.client.patch(f"{path}/complete")
    assert toggled.status_code == 200
    assert toggled.json()["completed"] is True
    assert user.client.patch(f"{path}/complete").json()["completed"] is False

    deleted = user.client.delete(path)
    assert deleted.status_code == 204
    assert user.client.get(path).status_code == 404
    assert user.client.get(user.tasks_path).json() == []


def test_list_filters_by_status(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    pending = _create(user, "pending one")
    done = _create(user, "done one")
    user.client.patch(f"{user.tasks_path}/{done['id']}/complete")

    def ids(status: str | None) -> list[int]:
        params = {"status": status} if status else {}
        return [task["id"] for task in user.client.get(user.tasks_path, params=params).json()]

    assert ids(None) == [pending["id"], done["id"]]
    assert ids("all") == [pending["id"], done["id"]]
    assert ids("pending") == [pending["id"]]
    assert ids("completed") == [done["id"]]
    assert user.client.get(user.tasks_path, params={"status": "later"}).status_code == 422


def test_users_never_see_or_touch_each_others_tasks(
    signed_up_user: SignedUpUser, sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess
) -> None:
    owner = signed_up_user
    intruder = sign_up(backend_server.base_url)
    task = _create(owner, "owner's secret")

    assert intruder.client.get(intruder.tasks_path).json() == []
    # Through the intruder's own path, the owner's task id does not exist...
    theirs = f"{intruder.tasks_path}/{task['id']}"
    assert intruder.client.get(theirs).status_code == 404
    assert intruder.client.put(theirs, json={"title": "hijacked"}).status_code == 404
    assert intruder.client.patch(f"{theirs}/complete").status_code == 404
    assert intruder.client.delete(theirs).status_code == 404
    # ...and the owner's path is forbidden outright.
    owners = f"{owner.tasks_path}/{task['id']}"
    assert intruder.client.get(owner.tasks_path).status_code == 403
    assert intruder.client.delete(owners).status_code == 403
    assert intruder.client.post(owner.tasks_path, json={"title": "planted"}).status_code == 403

    assert owner.client.get(owners).json() == task
    assert [t["title"] for t in owner.client.get(owner.tasks_path).json()] == ["owner's secret"]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PUT", ""), ("DELETE", ""), ("PATCH", "/complete")],
)
def test_unknown_task_id_is_404_with_a_json_body(
    signed_up_user: SignedUpUser, method: str, suffix: str
) -> None:
    body = {"title": "x"} if method == "PUT" else None
    response = signed_up_user.client.request(method, f"{signed_up_user.tasks_path}/987654{suffix}", json=body)
    assert response.status_code == 404
    assert response.json() == {"detail": "task 987654 not found"}


BAD_CREATE_BODIES: list[tuple[str, Any]] = [
    ("missing title", {"description": "no title"}),
    ("empty title", {"title": ""}),
    ("blank title", {"title": "   "}),
    ("oversize title", {"title": "x" * 201}),
    ("oversize description", {"title": "ok", "description": "d" * 1001}),
    ("title not a string", {"title": 42}),
    ("NUL in title", {"title": "a\x00b"}),
    ("unknown field", {"title": "ok", "owner": "someone else"}),
    ("not an object", ["title"]),
    ("null body", None),
]


@pytest.mark.parametrize(("case", "body"), BAD_CREATE_BODIES, ids=[case for case, _ in BAD_CREATE_BODIES])
def test_bad_create_bodies_are_422_and_write_nothing(
    signed_up_user: SignedUpUser, case: str, body: Any
) -> None:
    user = signed_up_user
    response = user.client.post(user.tasks_path, json=body)
    assert response.status_code == 422, f"{case}: {response.status_code} {response.text}"
    assert response.json()["detail"], case
    assert user.client.get(user.tasks_path).json() == []


def test_boundary_lengths_are_accepted(signed_up_user: SignedUpUser) -> None:
    task = _create(signed_up_user, "t" * 200, description="d" * 1000)
    assert len(task["title"]) == 200
    assert len(task["description"]) == 1000


def test_invalid_json_is_422_and_writes_nothing(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    response = user.client.post(
        user.tasks_path, content=b'{"title": "unterminated', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert user.client.get(user.tasks_path).json() == []


@pytest.mark.parametrize(
    "body",
    [{}, {"title": ""}, {"title": "y" * 201}, {"completed": "maybe"}, {"title": "ok", "extra": 1}],
    ids=["nothing to change", "empty title", "oversize title", "completed not a bool", "unknown field"],
)
def test_bad_update_bodies_are_422_and_change_nothing(
    signed_up_user: SignedUpUser, body: dict[str, Any]
) -> None:
    user = signed_up_user
    task = _create(user, "unchanged")
    response = user.client.put(f"{user.tasks_path}/{task['id']}", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert user.client.get(f"{user.tasks_path}/{task['id']}").json() == task


@pytest.mark.parametrize("task_id", ["0", "-1", "abc", "2147483648", "99999999999999999999"])
def test_out_of_range_or_non_numeric_ids_are_422(signed_up_user: SignedUpUser, task_id: str) -> None:
    response = signed_up_user.client.get(f"{signed_up_user.tasks_path}/{task_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "task_id"]


def test_oversize_request_body_is_refused_before_parsing(signed_up_user: SignedUpUser) -> None:
    response = signed_up_user.client.post(signed_up_user.tasks_path, json={"title": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]


def test_health_readiness_and_metrics(backend_url: str, signed_up_user: SignedUpUser) -> None:
    assert httpx.get(f"{backend_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{backend_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    signed_up_user.client.get(signed_up_user.tasks_path)
    metrics = httpx.get(f"{backend_url}/metrics").text
    assert 'taskflow_http_requests_total{method="GET",route="/api/{user_id}/tasks",status="200"}' in metrics
    assert "taskflow_http_request_duration_seconds_bucket" in metrics
