"""The backend with PostgreSQL unreachable: alive, not ready, and 503 (never 500) with a JSON body."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
from app_processes import START_TIMEOUT_SECONDS, AppProcess, free_port
from taskflow_backend.core.security import create_access_token


def test_unreachable_database_is_503_not_500(
    start_backend: Callable[..., AppProcess], jwt_secret: str
) -> None:
    nowhere = f"postgresql://taskflow:secret@127.0.0.1:{free_port()}/taskflow"
    backend = start_backend(nowhere, "http://127.0.0.1:9/mcp", wait=False, RUN_MIGRATIONS="false")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            if httpx.get(backend.base_url + "/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, backend.log_tail()
        time.sleep(0.2)

    ready = httpx.get(backend.base_url + "/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"

    user_id = uuid.uuid4()
    token = create_access_token(user_id, jwt_secret, 60)
    tasks = httpx.get(f"{backend.base_url}/api/{user_id}/tasks", headers={"Authorization": f"Bearer {token}"})
    assert tasks.status_code == 503
    assert tasks.headers["Retry-After"]
    assert tasks.json() == {"detail": "database unavailable; try again shortly"}
    signup = httpx.post(
        backend.base_url + "/api/auth/signup", json={"email": "a@example.com", "password": "12345678"}
    )
    assert signup.status_code == 503
