"""Plain ASGI middleware (cheaper per request than BaseHTTPMiddleware): metrics, a body-size cap,
an auth rate limit, and authentication before anything else looks at a user's request."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskflow_backend.api.limits import RateLimiter
from taskflow_backend.core.security import InvalidTokenError, TokenCodec
from taskflow_backend.metrics import HTTP_LATENCY, HTTP_REQUESTS

# Where BearerRequiredMiddleware leaves the token's user for the route (scope["state"]).
TOKEN_USER_KEY = "token_user"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status_code)).inc()
            HTTP_LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)


async def send_json(
    send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class BearerRequiredMiddleware:
    """401 for a request under /api/ (other than /api/auth/) without a valid bearer token, before its
    body is parsed: an unauthenticated caller learns nothing, not even that its JSON was malformed.
    The token is decoded here, once; the route takes its user from scope["state"] and checks the
    path's user (403)."""

    def __init__(self, app: ASGIApp, tokens: TokenCodec) -> None:
        self.app = app
        self._tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _needs_token(scope["path"]):
            authorization = (_header(scope, b"authorization") or b"").decode("latin-1")
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                await send_json(send, 401, "missing bearer token", [(b"www-authenticate", b"Bearer")])
                return
            try:
                user = self._tokens.decode(token.strip())
            except InvalidTokenError as exc:
                await send_json(send, 401, f"invalid token: {exc}", [(b"www-authenticate", b"Bearer")])
                return
            scope.setdefault("state", {})[TOKEN_USER_KEY] = user
        await self.app(scope, receive, send)


def _needs_token(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith("/api/auth/")


class AuthRateLimitMiddleware:
    """429 + Retry-After for a client (by address; see FORWARDED_ALLOW_IPS) that calls /api/auth/*
    faster than the limiter allows: password guessing and sign-up floods cost the server argon2 time."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/auth/"):
            client = scope.get("client")
            wait = self._limiter.check(client[0] if client else "unknown")
            if wait:
                await send_json(
                    send,
                    429,
                    "too many sign-up or login attempts; slow down",
                    [(b"retry-after", str(wait).encode())],
                )
                return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """413 for a request body over `max_bytes`: declared by Content-Length, or counted as it arrives
    when the body is chunked (no Content-Length). A chunked body is read here, up to the cap, and
    handed on whole; a body with Content-Length is passed through (the server holds it to its length)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                await send_json(send, 400, "invalid Content-Length")
                return
            if int(length) > self._max_bytes:
                await self._too_large(send)
                return
        elif _header(scope, b"transfer-encoding") is not None:
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self._max_bytes:
                    await self._too_large(send)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            receive = _replay(b"".join(chunks), receive)
        await self.app(scope, receive, send)

    async def _too_large(self, send: Send) -> None:
        await send_json(
            send, 413, f"request body must be at most {self._max_bytes} bytes", [(b"connection", b"close")]
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
