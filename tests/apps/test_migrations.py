"""Several replicas (and the MCP server) starting at once against an empty database."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.resources import files

import psycopg
from app_processes import AppProcess

REPLICAS = 3


def _head_revision() -> str:
    versions = files("taskflow_backend") / "migrations" / "versions"
    revisions = [
        match[1]
        for path in versions.iterdir()
        if path.name.endswith(".py") and (match := re.search(r'^revision = "(\w+)"', path.read_text(), re.M))
    ]
    return max(revisions)


def test_replicas_starting_together_migrate_once(
    new_database_url: Callable[[], str],
    start_backend: Callable[..., AppProcess],
    start_mcp_server: Callable[..., AppProcess],
) -> None:
    database_url = new_database_url()
    replicas = [start_backend(database_url, "http://127.0.0.1:9/mcp", wait=False) for _ in range(REPLICAS)]
    mcp = start_mcp_server(database_url)
    for replica in replicas:
        replica.wait_ready()
    for process in (*replicas, mcp):
        assert process.process is not None
        assert process.process.poll() is None, process.log_tail()
        assert "Traceback" not in process.log_path.read_text(), process.log_tail()

    with psycopg.connect(database_url) as connection:
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
    assert versions == [(_head_revision(),)]
    assert tables == {"alembic_version", "users", "tasks", "conversations", "messages"}
    upgrades = sum(p.log_path.read_text().count("Running upgrade") for p in (*replicas, mcp))
    assert upgrades == 1
