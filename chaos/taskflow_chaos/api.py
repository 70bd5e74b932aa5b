"""Taskflow's REST API through the ingress: HTTPS to a fixed address with the Ingress host's SNI."""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from taskflow_chaos.target import Target


@dataclass(frozen=True)
class Reply:
    status: int | None
    """None when no HTTP answer came (refused, reset, timed out)."""
    seconds: float
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except json.JSONDecodeError:
            return None

    def describe(self) -> str:
        return f"HTTP {self.status}" if self.status is not None else f"no answer ({self.error})"


@dataclass(frozen=True)
class User:
    user_id: str
    token: str


class _Pinned(http.client.HTTPSConnection):
    def __init__(self, target: Target, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(target.ingress_host, target.ingress_port, context=context, timeout=timeout)
        self._target = target
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection(
            (self._target.ingress_address, self._target.ingress_port), self.timeout
        )
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def tls_context(target: Target) -> ssl.SSLContext:
    if target.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=target.ca_file or None)


class Api:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._tls = tls_context(target)

    def request(
        self, method: str, path: str, body: Any = None, token: str = "", timeout: float = 10.0
    ) -> Reply:
        connection: http.client.HTTPConnection
        if self.target.scheme == "http":
            connection = http.client.HTTPConnection(
                self.target.ingress_address, self.target.ingress_port, timeout=timeout
            )
        else:
            connection = _Pinned(self.target, self._tls, timeout)
        headers = {"content-type": "application/json"} if body is not None else {}
        if token:
            headers["authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            answered = {name.lower(): value for name, value in response.getheaders()}
            return Reply(response.status, time.perf_counter() - started, text, answered)
        except (OSError, http.client.HTTPException) as error:
            return Reply(None, time.perf_counter() - started, error=f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    def sign_up(self) -> User:
        email = f"chaos-{secrets.token_hex(6)}@example.com"
        reply = self.request(
            "POST", "/api/auth/signup", {"email": email, "password": secrets.token_urlsafe(16)}
        )
        created = reply.json()
        if reply.status not in (200, 201) or not isinstance(created, dict):
            target = self.target
            where = f"https://{target.ingress_host} via {target.ingress_address}:{target.ingress_port}"
            raise RuntimeError(f"sign-up through {where} failed: {reply.describe()} {reply.body[:200]}")
        return User(str(created["user_id"]), str(created["access_token"]))
