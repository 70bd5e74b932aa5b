"""The probes' endpoints answer different questions (manifests/base/mcp-server.yaml relies on it):
/ready fails while the database is gone, /health (liveness) keeps answering, and /ready recovers
by itself. Real PostgreSQL, real server process."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import psycopg
from app_processes import AppProcess

RECOVERY_SECONDS = 10.0


def _status(server: AppProcess, path: str) -> int:
    return httpx.get(server.base_url + path, timeout=5).status_code


def test_mcp_readiness_follows_the_database_and_liveness_does_not(
    start_mcp_server: Callable[..., AppProcess], new_database_url: Callable[[], str]
) -> None:
    database_url = new_database_url()
    server = start_mcp_server(database_url)
    assert (_status(server, "/health"), _status(server, "/ready")) == (200, 200)

    admin_url, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        try:
            assert _status(server, "/ready") == 503
            assert _status(server, "/health") == 200
        finally:
            admin.execute(f'CREATE DATABASE "{name}"')

    deadline = time.monotonic() + RECOVERY_SECONDS
    while _status(server, "/ready") != 200:
        assert time.monotonic() < deadline, (
            f"/ready still failing {RECOVERY_SECONDS} s after the database returned"
        )
        time.sleep(0.2)
    assert _status(server, "/health") == 200
