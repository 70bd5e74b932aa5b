"""Sign-up, login and the bearer token, against the real backend and database."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from app_processes import AppProcess, SignedUpUser
from taskflow_backend.core.security import create_access_token


def test_signup_then_login_returns_a_token_for_the_same_user(backend_url: str) -> None:
    email = f"Mixed.Case-{uuid.uuid4().hex[:8]}@Example.com"
    signup = httpx.post(f"{backend_url}/api/auth/signup", json={"email": email, "password": "correct horse"})
    assert signup.status_code == 201, signup.text
    login = httpx.post(
        f"{backend_url}/api/auth/login", json={"email": email.lower(), "password": "correct horse"}
    )
    assert login.status_code == 200, login.text
    assert login.json()["user_id"] == signup.json()["user_id"]
    tasks = httpx.get(
        f"{backend_url}/api/{login.json()['user_id']}/tasks",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    )
    assert tasks.status_code == 200
    assert tasks.json() == []


def test_duplicate_email_is_a_conflict(signed_up_user: SignedUpUser, backend_url: str) -> None:
    response = httpx.post(
        f"{backend_url}/api/auth/signup", json={"email": signed_up_user.email, "password": "another password"}
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize("password_of", [lambda user: user.password + "x", lambda user: ""])
def test_wrong_password_is_refused(
    signed_up_user: SignedUpUser, backend_url: str, password_of: Callable[[SignedUpUser], str]
) -> None:
    response = httpx.post(
        f"{backend_url}/api/auth/login",
        json={"email": signed_up_user.email, "password": password_of(signed_up_user)},
    )
    assert response.status_code in (401, 422)
    assert response.json()["detail"]


def test_unknown_email_is_refused_like_a_wrong_password(backend_url: str) -> None:
    response = httpx.post(
        f"{backend_url}/api/auth/login", json={"email": "nobody@example.com", "password": "whatever1"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "wrong email or password"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "long enough"}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "not-an-email", "password": "long enough"}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "long enough", "admin": True}, "admin"),
    ],
)
def test_bad_signup_bodies_say_which_field_is_wrong(
    backend_url: str, body: dict[str, object], field: str
) -> None:
    response = httpx.post(f"{backend_url}/api/auth/signup", json=body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_invalid_json_is_422_with_a_json_body(backend_url: str) -> None:
    response = httpx.post(
        f"{backend_url}/api/auth/signup", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def _tasks_with_token(backend_server: AppProcess, user_id: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{backend_server.base_url}/api/{user_id}/tasks", headers=headers)


def test_missing_token_is_401(signed_up_user: SignedUpUser, backend_server: AppProcess) -> None:
    response = _tasks_with_token(backend_server, signed_up_user.user_id, None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == "missing bearer token"


def test_malformed_token_is_401(signed_up_user: SignedUpUser, backend_server: AppProcess) -> None:
    response = _tasks_with_token(backend_server, signed_up_user.user_id, "not.a.jwt")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("invalid token")


def test_token_signed_with_another_secret_is_401(
    signed_up_user: SignedUpUser, backend_server: AppProcess
) -> None:
    forged = create_access_token(
        uuid.UUID(signed_up_user.user_id), "another-secret-of-a-respectable-length-0123456789", 3600
    )
    assert _tasks_with_token(backend_server, signed_up_user.user_id, forged).status_code == 401


def test_expired_token_is_401(
    signed_up_user: SignedUpUser, backend_server: AppProcess, jwt_secret: str
) -> None:
    expired = create_access_token(uuid.UUID(signed_up_user.user_id), jwt_secret, -60)
    response = _tasks_with_token(backend_server, signed_up_user.user_id, expired)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_valid_token_for_another_users_path_is_403(
    signed_up_user: SignedUpUser, sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess
) -> None:
    other = sign_up(backend_server.base_url)
    response = _tasks_with_token(backend_server, other.user_id, signed_up_user.token)
    assert response.status_code == 403
    assert "not the token's user" in response.json()["detail"]


@pytest.mark.parametrize("token", [None, "not.a.jwt"])
def test_authentication_comes_before_body_validation(
    signed_up_user: SignedUpUser, backend_server: AppProcess, token: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(
        f"{backend_server.base_url}{signed_up_user.tasks_path}", content=b'{"title": ', headers=headers
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
