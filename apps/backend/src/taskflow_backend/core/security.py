"""Password hashing (argon2id) and HS256 access tokens."""

from __future__ import annotations

import time
import uuid

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_ALGORITHM = "HS256"
# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): sign-up and login stay cheap enough for a
# 2-core pod under load tests; the library default (64 MiB, 3 passes, 4 lanes) costs ~4x more.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class InvalidTokenError(Exception):
    """The bearer token is missing, malformed, badly signed or expired."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(user_id: uuid.UUID, secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode_access_token(token: str, secret: str) -> uuid.UUID:
    """Return the user id the token was issued to."""
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["sub", "exp"]})
        return uuid.UUID(str(claims["sub"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidTokenError(str(exc)) from exc
