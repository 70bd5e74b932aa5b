"""Request limits and start-up refusals: chunked bodies over the cap, bounded password hashing,
the auth rate limit, forwarded headers believed only from trusted proxies, short secrets refused."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
from app_processes import AppProcess, SignedUpUser, free_port

MAX_BODY = 1024 * 1024


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent with Transfer-Encoding: chunked (no Content-Length)."""
    sent = 0
    yield b'{"title": "'
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


def test_a_chunked_body_over_the_cap_is_413_even_unauthenticated(
    signed_up_user: SignedUpUser, backend_url: str
) -> None:
    user = signed_up_user
    too_big = user.client.post(user.tasks_path, content=_chunks(MAX_BODY + 1))
    assert too_big.status_code == 413, too_big.text
    signup = httpx.post(backend_url + "/api/auth/signup", content=_chunks(4 * MAX_BODY), timeout=30)
    assert signup.status_code == 413
    assert "at most" in signup.json()["detail"]
    assert user.client.get(user.tasks_path).json() == []


def test_a_chunked_body_under_the_cap_is_handled_as_usual(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    created = user.client.post(
        user.tasks_path,
        content=iter([b'{"title": ', b'"chunked"}']),
        headers={"Content-Type": "application/json"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "chunked"


def test_concurrent_logins_are_bounded_with_429_and_retry_after(
    start_backend: Callable[..., AppProcess], database_url: str, sign_up: Callable[[str], SignedUpUser]
) -> None:
    # One hashing slot and a queue of 4: of 24 logins at once, some must be turned away.
    backend = start_backend(
        database_url, "http://127.0.0.1:9/mcp", PASSWORD_HASH_CONCURRENCY="1", PASSWORD_HASH_QUEUE="4"
    )
    user = sign_up(backend.base_url)

    def login(_: int) -> httpx.Response:
        body = {"email": user.email, "password": user.password}
        return httpx.post(backend.base_url + "/api/auth/login", json=body, timeout=60)

    with ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(login, range(24)))
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 429}, statuses
    assert 200 in statuses and 429 in statuses, statuses
    busy = next(response for response in responses if response.status_code == 429)
    assert int(busy.headers["Retry-After"]) >= 1


def test_auth_endpoints_are_rate_limited_per_client(
    start_backend: Callable[..., AppProcess], database_url: str
) -> None:
    # The tests' client is 127.0.0.1, the default trusted proxy: X-Forwarded-For names the client.
    backend = start_backend(database_url, "http://127.0.0.1:9/mcp", AUTH_RATE_PER_MINUTE="6", AUTH_BURST="3")
    body = {"email": "nobody@example.com", "password": "wrong-password"}

    def attempt(client_address: str) -> httpx.Response:
        headers = {"X-Forwarded-For": client_address}
        return httpx.post(backend.base_url + "/api/auth/login", json=body, headers=headers, timeout=30)

    assert [attempt("192.0.2.1").status_code for _ in range(3)] == [401, 401, 401]
    limited = attempt("192.0.2.1")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert attempt("192.0.2.2").status_code == 401  # another client has its own budget


def test_forwarded_headers_from_an_untrusted_peer_do_not_dodge_the_limit(
    start_backend: Callable[..., AppProcess], database_url: str
) -> None:
    backend = start_backend(
        database_url,
        "http://127.0.0.1:9/mcp",
        AUTH_RATE_PER_MINUTE="6",
        AUTH_BURST="2",
        FORWARDED_ALLOW_IPS="192.0.2.99",
    )
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    statuses = [
        httpx.post(
            backend.base_url + "/api/auth/login",
            json=body,
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            timeout=30,
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def _start_refused(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module],
        check=False,
        env={**os.environ, "HOST": "127.0.0.1", "PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_short_jwt_secret_is_refused_at_start_with_one_clear_line(
    database_url: str, mcp_token_secret: str
) -> None:
    refused = _start_refused(
        "taskflow_backend",
        {"DATABASE_URL": database_url, "JWT_SECRET": "too-short", "MCP_TOKEN_SECRET": mcp_token_secret},
    )
    assert refused.returncode == 2
    assert "JWT_SECRET must be at least 32 characters" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_short_mcp_token_secret_is_refused_by_the_mcp_server(database_url: str) -> None:
    refused = _start_refused("taskflow_mcp", {"DATABASE_URL": database_url, "MCP_TOKEN_SECRET": "short"})
    assert refused.returncode == 2
    assert "MCP_TOKEN_SECRET must be at least 32 characters" in refused.stderr


def test_list_is_paginated_with_limit_and_offset(signed_up_user: SignedUpUser) -> None:
    user = signed_up_user
    ids = [user.client.post(user.tasks_path, json={"title": f"t{n}"}).json()["id"] for n in range(5)]
    page = user.client.get(user.tasks_path, params={"limit": 2, "offset": 1}).json()
    assert [task["id"] for task in page] == ids[1:3]
    assert [task["id"] for task in user.client.get(user.tasks_path).json()] == ids
    assert user.client.get(user.tasks_path, params={"limit": 0}).status_code == 422
    assert user.client.get(user.tasks_path, params={"limit": 501}).status_code == 422


def test_two_worker_processes_serve_and_stop_on_sigterm(
    start_backend: Callable[..., AppProcess], database_url: str, sign_up: Callable[[str], SignedUpUser]
) -> None:
    backend = start_backend(database_url, "http://127.0.0.1:9/mcp", WORKERS="2")
    user = sign_up(backend.base_url)
    for _ in range(4):
        assert user.client.get(user.tasks_path).status_code == 200
    assert backend.stop() is not None
    assert backend.process is not None and backend.process.poll() is not None
