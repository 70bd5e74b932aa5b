"""Taskflow's REST API as the scenarios use it, called from inside the cluster through the probe."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from harness.probe import Probe

BACKEND_URL = "http://backend:8000"


@dataclass(frozen=True)
class ApiUser:
    user_id: str
    token: str
    email: str


def body(response: dict[str, Any]) -> Any:
    text = response.get("body") or ""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def expect(response: dict[str, Any], status: int, what: str) -> Any:
    if response.get("status") != status:
        raise AssertionError(
            f"{what}: expected HTTP {status}, got {response.get('status')} "
            f"{response.get('error') or (response.get('body') or '')[:300]}"
        )
    return body(response)


def sign_up(probe: Probe, base_url: str = BACKEND_URL) -> ApiUser:
    email = f"conformance-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(16)
    response = probe.request(f"{base_url}/api/auth/signup", "POST", {"email": email, "password": password})
    created = (
        expect(response, 201, "sign-up")
        if response.get("status") == 201
        else expect(response, 200, "sign-up")
    )
    return ApiUser(user_id=str(created["user_id"]), token=created["access_token"], email=email)


def create_task(probe: Probe, user: ApiUser, title: str, base_url: str = BACKEND_URL) -> dict[str, Any]:
    response = probe.request(
        f"{base_url}/api/{user.user_id}/tasks",
        "POST",
        {"title": title, "description": "conformance"},
        user.token,
    )
    created: dict[str, Any] = expect(response, 201, f"create task {title!r}")
    return created


def list_tasks(probe: Probe, user: ApiUser, base_url: str = BACKEND_URL) -> list[dict[str, Any]]:
    response = probe.request(f"{base_url}/api/{user.user_id}/tasks", token=user.token)
    listed = expect(response, 200, "list tasks")
    return list(listed["tasks"] if isinstance(listed, dict) and "tasks" in listed else listed)


def chat(probe: Probe, user: ApiUser, message: str, base_url: str = BACKEND_URL) -> dict[str, Any]:
    return probe.request(f"{base_url}/api/{user.user_id}/chat", "POST", {"message": message}, user.token)
