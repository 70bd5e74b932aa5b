"""HTTPS through the ingress with the right SNI and host, trusting only the run's own certificate."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from harness.deployment import IngressEndpoint

INGRESS_HOST = "taskflow.local"


@dataclass(frozen=True)
class IngressResponse:
    status: int
    headers: dict[str, str]
    """Header names lower-cased (proxies change their case)."""
    body: str
    seconds: float
    peer_certificate_der: bytes


class _PinnedConnection(http.client.HTTPSConnection):
    """Connects to a fixed address while speaking TLS and HTTP for `hostname`."""

    def __init__(
        self, endpoint: IngressEndpoint, hostname: str, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(hostname, endpoint.port, context=context, timeout=timeout)
        self._endpoint = endpoint
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._endpoint.address, self._endpoint.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def trusting(certificate_pem: str) -> ssl.SSLContext:
    """A client context that trusts exactly this (self-signed) certificate and checks the host name."""
    context = ssl.create_default_context(cadata=certificate_pem)
    context.check_hostname = True
    return context


def fetch(
    endpoint: IngressEndpoint,
    path: str,
    context: ssl.SSLContext,
    *,
    method: str = "GET",
    body: str | None = None,
    hostname: str = INGRESS_HOST,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
) -> IngressResponse:
    connection = _PinnedConnection(endpoint, hostname, context, timeout)
    started = time.perf_counter()
    try:
        sent = {**({"content-type": "application/json"} if body is not None else {}), **(headers or {})}
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        payload = response.read().decode("utf-8", errors="replace")
        assert connection.sock is not None
        peer = connection.sock.getpeercert(binary_form=True) or b""
        received = {name.lower(): value for name, value in response.getheaders()}
        return IngressResponse(response.status, received, payload, time.perf_counter() - started, peer)
    finally:
        connection.close()
