"""Plain ASGI middleware (cheaper per request than BaseHTTPMiddleware): metrics, a body-size cap, and
authentication before anything else looks at a user's request."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskflow_backend.core.security import InvalidTokenError, decode_access_token
from taskflow_backend.metrics import HTTP_LATENCY, HTTP_REQUESTS

MAX_BODY_BYTES = 1024 * 1024


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


async def _send_json(
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


class BearerRequiredMiddleware:
    """401 for a request under /api/ (other than /api/auth/) without a valid bearer token, before its
    body is parsed: an unauthenticated caller learns nothing, not even that its JSON was malformed.
    The route dependency still checks the token and the path's user (403) for each request."""

    def __init__(self, app: ASGIApp, jwt_secret: str) -> None:
        self.app = app
        self._secret = jwt_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _needs_token(scope["path"]):
            problem = self._problem(dict(scope["headers"]).get(b"authorization", b""))
            if problem is not None:
                await _send_json(send, 401, problem, [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)

    def _problem(self, authorization: bytes) -> str | None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "missing bearer token"
        try:
            decode_access_token(token.strip(), self._secret)
        except InvalidTokenError as exc:
            return f"invalid token: {exc}"
        return None


def _needs_token(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith("/api/auth/")


class BodySizeLimitMiddleware:
    """413 for a request whose Content-Length says it is larger than MAX_BODY_BYTES."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                detail = f"request body must be at most {MAX_BODY_BYTES} bytes with a valid Content-Length"
                body = json.dumps({"detail": detail}).encode()
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                status = 413 if length.isdigit() else 400
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
