"""Request dependencies: shared services and the authenticated path user."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from taskflow_backend.api.middleware import TOKEN_USER_KEY
from taskflow_backend.services import Services

# Declares the scheme in the OpenAPI document; the middleware has already checked the token.
_bearer = HTTPBearer(auto_error=False, description="The access_token from sign-up or login")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_path_user(
    request: Request,
    user_id: Annotated[str, Path(max_length=64, description="Must be the id of the token's user")],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID:
    """The user the token belongs to (BearerRequiredMiddleware decoded it), who must also be the user
    named in the path."""
    token_user: uuid.UUID | None = request.scope.get("state", {}).get(TOKEN_USER_KEY)
    if token_user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    if user_id != str(token_user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the path's user_id is not the token's user")
    return token_user


PathUser = Annotated[uuid.UUID, Depends(get_path_user)]
