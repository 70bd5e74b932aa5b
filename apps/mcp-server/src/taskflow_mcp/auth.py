"""Only the backend may call tools, and only for the user its token names.

Every request to the MCP endpoint must carry `Authorization: Bearer <token>`, an HS256 token signed
with MCP_TOKEN_SECRET for audience "mcp" whose subject is the acting user. Without one, or with one
that does not verify (wrong key, audience, expired), the answer is 401 before the MCP layer runs.
The verified user is left in the request's state, where the tools read it.
"""

from __future__ import annotations

import json
import uuid

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from starlette.types import ASGIApp, Receive, Scope, Send
from taskflow_backend.core.security import InvalidTokenError, TokenCodec

CALLER_KEY = "mcp_user"


class McpTokenMiddleware:
    def __init__(self, app: ASGIApp, tokens: TokenCodec, path: str = "/mcp") -> None:
        self.app = app
        self._tokens = tokens
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") == self._path:
            problem, user = self._verify(scope)
            if user is None:
                body = json.dumps({"detail": problem}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b'Bearer realm="mcp"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            scope.setdefault("state", {})[CALLER_KEY] = user
        await self.app(scope, receive, send)

    def _verify(self, scope: Scope) -> tuple[str, uuid.UUID | None]:
        authorization = next((value for key, value in scope["headers"] if key == b"authorization"), b"")
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "missing bearer token", None
        try:
            return "", self._tokens.decode(token.strip())
        except InvalidTokenError:
            return "invalid token", None


def caller(ctx: Context) -> uuid.UUID:
    """The user the verified token names (the middleware refused the request otherwise)."""
    request = ctx.request_context.request
    user = getattr(request, "scope", {}).get("state", {}).get(CALLER_KEY) if request is not None else None
    if not isinstance(user, uuid.UUID):
        raise ToolError("not authenticated")
    return user
