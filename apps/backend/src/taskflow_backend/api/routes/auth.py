"""Sign-up and login; both answer with a bearer token."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, HTTPException, status
from starlette.concurrency import run_in_threadpool

from taskflow_backend.api.deps import ServicesDep
from taskflow_backend.api.limits import BusyError
from taskflow_backend.core.security import hash_password, verify_password
from taskflow_backend.crud.users import EmailTakenError, create_user, get_login
from taskflow_backend.schemas.auth import LoginRequest, SignupRequest, TokenResponse
from taskflow_backend.schemas.chat import ErrorResponse
from taskflow_backend.services import Services

router = APIRouter(prefix="/api/auth", tags=["auth"])

# Verified against when the email is unknown, so that a login takes as long either way.
_DUMMY_HASH = hash_password("not-a-real-password")
_BUSY = {"model": ErrorResponse, "description": "Too many attempts, or too many at once; see Retry-After"}


T = TypeVar("T")


async def _hashed(services: Services, function: Callable[..., T], *args: str) -> T:
    """Run an argon2 call in a bounded slot (429 + Retry-After when every slot and the queue are taken)."""
    try:
        async with services.hash_slots.slot():
            return await run_in_threadpool(function, *args)
    except BusyError as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "the server is busy with other sign-ups and logins; retry shortly",
            headers={"Retry-After": str(exc.retry_after_seconds)},
        ) from exc


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorResponse, "description": "Email already registered"}, 429: _BUSY},
)
async def signup(body: SignupRequest, services: ServicesDep) -> TokenResponse:
    password_hash = await _hashed(services, hash_password, body.password)
    try:
        user_id = await create_user(services.db, body.email, body.name, password_hash)
    except EmailTakenError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "an account with this email already exists") from exc
    return _token_for(user_id, services)


@router.post(
    "/login",
    responses={401: {"model": ErrorResponse, "description": "Wrong email or password"}, 429: _BUSY},
)
async def login(body: LoginRequest, services: ServicesDep) -> TokenResponse:
    account = await get_login(services.db, body.email)
    password_hash = account[1] if account is not None else _DUMMY_HASH
    valid = await _hashed(services, verify_password, body.password, password_hash)
    if account is None or not valid:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong email or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return _token_for(account[0], services)


def _token_for(user_id: uuid.UUID, services: Services) -> TokenResponse:
    token = services.tokens.encode(user_id, services.settings.access_token_ttl_seconds)
    return TokenResponse(access_token=token, user_id=user_id)
