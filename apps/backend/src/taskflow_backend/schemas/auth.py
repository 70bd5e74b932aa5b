"""Sign-up and login bodies."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from taskflow_backend.db.models import EMAIL_MAX, NAME_MAX
from taskflow_backend.schemas.text import StorableText

_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

Email = Annotated[
    StorableText,
    Field(min_length=3, max_length=EMAIL_MAX, pattern=_EMAIL_PATTERN),
    AfterValidator(str.lower),
]
Password = Annotated[StorableText, Field(min_length=8, max_length=128)]


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    name: Annotated[StorableText, Field(max_length=NAME_MAX)] = ""


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Annotated[StorableText, Field(min_length=1, max_length=128)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    user_id: uuid.UUID
