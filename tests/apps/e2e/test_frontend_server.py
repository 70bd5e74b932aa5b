"""The built frontend server over plain HTTP: its own health endpoint, and the `/api` proxy to the
backend that a frontend running without the ingress relies on. No browser needed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from app_processes import free_port
from frontend_stack import FrontendProcess

PASSWORD = "correct-horse-battery"


@pytest.fixture
def client(frontend_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=frontend_url, timeout=30) as client:
        yield client


def _sign_up(client: httpx.Client) -> tuple[str, dict[str, str]]:
    email = f"proxy-{uuid.uuid4().hex[:10]}@example.com"
    response = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["user_id"], {"Authorization": f"Bearer {body['access_token']}"}


def test_health_is_answered_by_the_frontend_even_without_a_backend(
    start_frontend: Callable[[str], FrontendProcess],
) -> None:
    frontend = start_frontend(f"http://127.0.0.1:{free_port()}")
    response = httpx.get(frontend.base_url + "/api/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "frontend"}
    assert response.headers["cache-control"] == "no-store"

    down = httpx.post(frontend.base_url + "/api/auth/login", json={"email": "a@b.cd", "password": "x"})
    assert down.status_code == 502
    assert down.headers["content-type"].startswith("application/json")
    assert "unreachable" in down.json()["detail"]


def test_pages_render_with_security_headers(client: httpx.Client) -> None:
    for path in ("/", "/login", "/signup"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<title>" in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "x-powered-by" not in response.headers
    assert client.get("/no-such-page").status_code == 404


def test_proxy_passes_methods_statuses_bodies_and_headers(client: httpx.Client) -> None:
    user_id, auth = _sign_up(client)
    tasks = f"/api/{user_id}/tasks"

    created = client.post(tasks, json={"title": "through the proxy", "description": "d"}, headers=auth)
    assert created.status_code == 201
    task_id = created.json()["id"]

    assert (
        client.put(f"{tasks}/{task_id}", json={"title": "renamed"}, headers=auth).json()["title"] == "renamed"
    )
    assert client.patch(f"{tasks}/{task_id}/complete", headers=auth).json()["completed"] is True
    # The query string reaches the backend.
    assert [t["id"] for t in client.get(tasks, params={"status": "completed"}, headers=auth).json()] == [
        task_id
    ]
    assert client.get(tasks, params={"status": "pending"}, headers=auth).json() == []

    deleted = client.delete(f"{tasks}/{task_id}", headers=auth)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"{tasks}/{task_id}", headers=auth).status_code == 404

    invalid = client.post(tasks, json={"title": ""}, headers=auth)
    assert invalid.status_code == 422
    assert "detail" in invalid.json()

    unauthorised = client.get(tasks)
    assert unauthorised.status_code == 401
    wrong = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
