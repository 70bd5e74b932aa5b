"""Sign-up and login; both answer with a bearer token."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, status
from starlette.concurrency import run_in_threadpool

from taskflow_backend.api.deps import ServicesDep, SessionDep
from taskflow_backend.core.security import create_access_token, hash_password, verify_password
from taskflow_backend.crud.users import EmailTakenError, create_user, get_user_by_email
from taskflow_backend.schemas.auth import LoginRequest, SignupRequest, TokenResponse
from taskflow_backend.schemas.chat import ErrorResponse
from taskflow_backend.services import Services

router = APIRouter(prefix="/api/auth", tags=["auth"])

# Verified against when the email is unknown, so that a login takes as long either way.
_DUMMY_HASH = hash_password("not-a-real-password")


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorResponse, "description": "Email already registered"}},
)
async def signup(body: SignupRequest, session: SessionDep, services: ServicesDep) -> TokenResponse:
    password_hash = await run_in_threadpool(hash_password, body.password)
    try:
        user = await create_user(session, body.email, body.name, password_hash)
    except EmailTakenError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "an account with this email already exists") from exc
    return _token_for(user.id, services)


@router.post("/login", responses={401: {"model": ErrorResponse, "description": "Wrong email or password"}})
async def login(body: LoginRequest, session: SessionDep, services: ServicesDep) -> TokenResponse:
    user = await get_user_by_email(session, body.email)
    password_hash = user.password_hash if user is not None else _DUMMY_HASH
    valid = await run_in_threadpool(verify_password, body.password, password_hash)
    if user is None or not valid:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong email or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return _token_for(user.id, services)


def _token_for(user_id: uuid.UUID, services: Services) -> TokenResponse:
    settings = services.settings
    token = create_access_token(
        user_id, settings.jwt_secret.get_secret_value(), settings.access_token_ttl_seconds
    )
    return TokenResponse(access_token=token, user_id=user_id)
