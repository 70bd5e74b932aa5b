"""Password hashing (argon2id), HS256 access tokens, and the short-lived tokens for MCP calls."""

from __future__ import annotations

import time
import uuid

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jwt.types import Options

_ALGORITHM = "HS256"
MCP_AUDIENCE = "mcp"
# A secret shorter than this is refused at start-up: HS256 wants at least its 256-bit output size.
MIN_SECRET_LENGTH = 32
# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): sign-up and login stay cheap enough for a
# 2-core pod under load tests; the library default (64 MiB, 3 passes, 4 lanes) costs ~4x more.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
HASH_MEMORY_BYTES = 19 * 1024 * 1024


class InvalidTokenError(Exception):
    """The bearer token is missing, malformed, badly signed or expired."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class TokenCodec:
    """HS256 tokens under one secret. The key bytes and decode options are made once, not per call."""

    def __init__(self, secret: str, audience: str | None = None) -> None:
        self._key = secret.encode()
        self._audience = audience
        self._jwt = jwt.PyJWT()
        required = ["sub", "exp"] + (["aud"] if audience else [])
        self._options: Options = {"require": required}

    def encode(self, subject: uuid.UUID | str, ttl_seconds: int) -> str:
        now = int(time.time())
        claims: dict[str, object] = {"sub": str(subject), "iat": now, "exp": now + ttl_seconds}
        if self._audience:
            claims["aud"] = self._audience
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def decode(self, token: str) -> uuid.UUID:
        """The subject the token was issued to; InvalidTokenError for anything else."""
        try:
            claims = self._jwt.decode(
                token, self._key, algorithms=[_ALGORITHM], audience=self._audience, options=self._options
            )
            return uuid.UUID(str(claims["sub"]))
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidTokenError(str(exc)) from exc


def create_access_token(user_id: uuid.UUID, secret: str, ttl_seconds: int) -> str:
    return TokenCodec(secret).encode(user_id, ttl_seconds)


def decode_access_token(token: str, secret: str) -> uuid.UUID:
    """Return the user id the token was issued to."""
    return TokenCodec(secret).decode(token)
