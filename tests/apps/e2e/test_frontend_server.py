"""The built frontend server over plain HTTP: its own health endpoint, and the `/api` proxy to the
backend that a frontend running without the ingress relies on. No browser needed."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

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
    # The proxy names itself as a hop (RFC 9110 Via): the conformance run tells by it who answered /api.
    assert created.headers["via"] == "1.1 taskflow-frontend"
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


def _post_raw(base_url: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> str:
    """Send a request over a plain socket and return the response's status line: a server may answer
    413 and close before the whole body is sent, which an HTTP client library reports as an error."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname or "127.0.0.1", address.port or 80), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        try:
            sock.sendall(head.encode())
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed; the answer is still to be read
        try:
            return sock.makefile("rb").readline().decode()
        except ConnectionResetError:
            return ""


def test_proxy_refuses_bodies_over_the_cap_chunked_or_declared(
    client: httpx.Client, frontend_url: str
) -> None:
    user_id, auth = _sign_up(client)
    tasks = f"/api/{user_id}/tasks"
    headers = {**auth, "Content-Type": "application/json"}
    piece = b"x" * (64 * 1024)

    def chunked() -> Iterator[bytes]:
        for _ in range(20):
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
        yield b"0\r\n\r\n"

    declared = _post_raw(
        frontend_url, tasks, {**headers, "Content-Length": str(2 * 1024 * 1024)}, iter([piece])
    )
    assert " 413 " in declared, declared
    streamed = _post_raw(frontend_url, tasks, {**headers, "Transfer-Encoding": "chunked"}, chunked())
    assert " 413 " in streamed, streamed
    assert client.get(tasks, headers=auth).json() == []
