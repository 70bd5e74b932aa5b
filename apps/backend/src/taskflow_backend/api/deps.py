"""Request dependencies: shared services, a database session, the authenticated path user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from taskflow_backend.core.security import InvalidTokenError, decode_access_token
from taskflow_backend.services import Services

_bearer = HTTPBearer(auto_error=False, description="The access_token from sign-up or login")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with services.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def get_path_user(
    user_id: Annotated[str, Path(max_length=64, description="Must be the id of the token's user")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    services: ServicesDep,
) -> uuid.UUID:
    """The user the token belongs to, who must also be the user named in the path."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    try:
        token_user = decode_access_token(
            credentials.credentials, services.settings.jwt_secret.get_secret_value()
        )
    except InvalidTokenError as exc:
        raise _unauthorized(f"invalid token: {exc}") from exc
    if user_id != str(token_user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the path's user_id is not the token's user")
    return token_user


PathUser = Annotated[uuid.UUID, Depends(get_path_user)]
