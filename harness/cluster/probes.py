"""Readiness checks: each returns None when ready, else a short reason."""

from __future__ import annotations

import http.client
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

Check = Callable[[], "str | None"]


def http_ok(
    url: str,
    ca: Path | None = None,
    cert: tuple[Path, Path] | None = None,
    insecure: bool = False,
    expect: str | None = None,
) -> Check:
    parts = urlsplit(url)

    def check() -> str | None:
        conn: http.client.HTTPConnection
        host = parts.hostname or "127.0.0.1"
        if parts.scheme == "https":
            ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
            if insecure:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if cert:
                ctx.load_cert_chain(str(cert[0]), str(cert[1]))
            conn = http.client.HTTPSConnection(host, parts.port, context=ctx, timeout=2)
        else:
            conn = http.client.HTTPConnection(host, parts.port, timeout=2)
        try:
            conn.request("GET", parts.path or "/")
            resp = conn.getresponse()
            body = resp.read(4096).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            return f"{url}: {exc.__class__.__name__}: {exc}"
        finally:
            conn.close()
        if resp.status != 200:
            return f"{url}: HTTP {resp.status} {body.strip()[:200]}"
        if expect is not None and expect not in body:
            return f"{url}: unexpected answer {body.strip()[:200]}"
        return None

    return check


def command_ok(argv: list[str]) -> Check:
    def check() -> str | None:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if proc.returncode != 0:
            return (proc.stderr or proc.stdout).strip()[-200:] or f"exit {proc.returncode}"
        return None

    return check
