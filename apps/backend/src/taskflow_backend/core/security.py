"""Password hashing (argon2id), HS256 access tokens, and the short-lived tokens for MCP calls."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
    """HS256 tokens under one secret. Signing goes through PyJWT; verifying, on every request, uses
    an HMAC whose key schedule is computed once here (PyJWT re-inspects the key on every decode,
    e.g. tries to parse it as a public key, which costs more than the check itself)."""

    def __init__(self, secret: str, audience: str | None = None) -> None:
        self._key = secret.encode()
        self._mac = hmac.new(self._key, digestmod=hashlib.sha256)
        self._audience = audience

    def encode(self, subject: uuid.UUID | str, ttl_seconds: int) -> str:
        now = int(time.time())
        claims: dict[str, object] = {"sub": str(subject), "iat": now, "exp": now + ttl_seconds}
        if self._audience:
            claims["aud"] = self._audience
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def decode(self, token: str) -> uuid.UUID:
        """The subject the token was issued to; InvalidTokenError for anything else."""
        try:
            header_part, payload_part, signature_part = token.split(".")
            header = json.loads(_unbase64(header_part))
            if not isinstance(header, dict) or header.get("alg") != _ALGORITHM:
                raise InvalidTokenError("the algorithm is not HS256")
            mac = self._mac.copy()
            mac.update(f"{header_part}.{payload_part}".encode("ascii"))
            if not hmac.compare_digest(mac.digest(), _unbase64(signature_part)):
                raise InvalidTokenError("Signature verification failed")
            claims = json.loads(_unbase64(payload_part))
        except InvalidTokenError:
            raise
        except (ValueError, TypeError, UnicodeError) as exc:
            raise InvalidTokenError("malformed token") from exc
        if not isinstance(claims, dict):
            raise InvalidTokenError("malformed token")
        self._check_claims(claims)
        try:
            return uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise InvalidTokenError("the subject is not a user id") from exc

    def _check_claims(self, claims: dict[str, object]) -> None:
        for required in ("sub", "exp", *(("aud",) if self._audience else ())):
            if required not in claims:
                raise InvalidTokenError(f'Token is missing the "{required}" claim')
        expires = claims["exp"]
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            raise InvalidTokenError("Expiration Time claim (exp) must be a number")
        if expires <= time.time():
            raise InvalidTokenError("Signature has expired")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._audience is None and audience is not None:
            raise InvalidTokenError("Invalid audience")
        if self._audience is not None and self._audience not in audiences:
            raise InvalidTokenError("Audience doesn't match")


def _unbase64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def create_access_token(user_id: uuid.UUID, secret: str, ttl_seconds: int) -> str:
    return TokenCodec(secret).encode(user_id, ttl_seconds)


def decode_access_token(token: str, secret: str) -> uuid.UUID:
    """Return the user id the token was issued to."""
    return TokenCodec(secret).decode(token)
