"""HTTP downloads that give up within seconds and say why in a few words.

Used to fetch released binaries instead of compiling them: a host that cannot reach the release
hosts must fall back to the Go build at once, not after a minute of retries. Every blocking step
(name lookup, connect, each read) has its own deadline of TIMEOUT_SECONDS.

TASKFLOW_CLUSTER_DOWNLOADS: `on` (default) fetches from the official hosts, `off` never
downloads, an http(s) URL is a mirror laid out as <URL>/<host>/<path of the official URL>.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
from collections.abc import Callable
from pathlib import Path

ENV = "TASKFLOW_CLUSTER_DOWNLOADS"
TIMEOUT_SECONDS = 5.0
CHUNK_BYTES = 1 << 20


class FetchError(Exception):
    """A download that did not happen; str() is the reason, short enough for one line."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        # the host itself did not answer (no name, refused, silent): its other files need not be tried
        self.unreachable = unreachable


def setting() -> str:
    """'off', 'on', or a mirror's base URL."""
    value = os.environ.get(ENV, "on").strip()
    if value.lower() in {"off", "0", "no", "false"}:
        return "off"
    if value.startswith(("http://", "https://")):
        return value.rstrip("/")
    return "on"


def source_url(official: str) -> str:
    """Where to fetch an official URL from: itself, or its place on the configured mirror."""
    mirror = setting()
    if not mirror.startswith(("http://", "https://")):
        return official
    parts = urllib.parse.urlsplit(official)
    return f"{mirror}/{parts.netloc}{parts.path}"


def host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def _resolve_within(host: str, seconds: float) -> None:
    """Look the host name up with a deadline (urllib's timeout does not cover the lookup)."""
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError as error:
            failure.append(error)

    worker = threading.Thread(target=lookup, name=f"resolve-{host}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise FetchError(f"{host}: no DNS answer within {seconds:g} s", unreachable=True)
    if failure:
        error = failure[0]
        raise FetchError(
            f"cannot resolve {host} ({getattr(error, 'strerror', None) or error})", unreachable=True
        )


def _reason(error: BaseException, url: str) -> FetchError:
    host = host_of(url)
    if isinstance(error, urllib.error.HTTPError):
        return FetchError(f"{url}: HTTP {error.code} {error.reason}")
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(cause, TimeoutError | socket.timeout):
        return FetchError(f"{host}: no answer within {TIMEOUT_SECONDS:g} s", unreachable=True)
    if isinstance(cause, socket.gaierror):
        return FetchError(f"cannot resolve {host} ({cause.strerror})", unreachable=True)
    if isinstance(cause, ConnectionRefusedError):
        return FetchError(f"{host}: connection refused", unreachable=True)
    if isinstance(cause, OSError) and cause.errno is not None:
        return FetchError(f"{host}: {cause.strerror or cause}", unreachable=True)
    return FetchError(f"{url}: {cause}")


def _open(url: str) -> urllib.response.addinfourl:
    hostname = urllib.parse.urlsplit(url).hostname or ""
    _resolve_within(hostname, TIMEOUT_SECONDS)
    try:
        answer: urllib.response.addinfourl = urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)
    except (urllib.error.URLError, OSError) as error:
        raise _reason(error, url) from None
    return answer


def download(url: str, dest: Path, on_answer: Callable[[], None] | None = None) -> tuple[str, int]:
    """Write url's body to dest; return its SHA-256 (hex) and size in bytes. on_answer runs once
    the host has answered, before the body is read."""
    digest = hashlib.sha256()
    size = 0
    with _open(url) as answer, dest.open("wb") as out:
        if on_answer is not None:
            on_answer()
        try:
            while chunk := answer.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        except OSError as error:
            raise _reason(error, url) from None
    return digest.hexdigest(), size


def read_text(url: str, limit: int = 1 << 20) -> str:
    """A small text file (a checksum list)."""
    with _open(url) as answer:
        try:
            return bytes(answer.read(limit)).decode("utf-8", errors="replace")
        except OSError as error:
            raise _reason(error, url) from None
