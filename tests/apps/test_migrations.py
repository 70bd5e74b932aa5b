"""Several replicas (and the MCP server) starting at once against an empty database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.resources import files

import httpx
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


def test_apps_that_do_not_migrate_wait_for_the_schema_and_accept_a_newer_one(
    start_backend: Callable[..., AppProcess], new_database_url: Callable[[], str]
) -> None:
    """The cluster's layout: the init container migrates once per rollout, the apps only check. An
    app is not ready on an unmigrated database, ready once it is migrated, and an older app meeting
    a newer schema (a rollback) stays ready instead of crash-looping."""
    database_url = new_database_url()
    backend = start_backend(database_url, "http://127.0.0.1:9/mcp", wait=False, RUN_MIGRATIONS="false")
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(backend.base_url + "/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, backend.log_tail()
        time.sleep(0.2)
    not_ready = httpx.get(backend.base_url + "/readyz")
    assert not_ready.status_code == 503
    assert "not migrated" in not_ready.json()["database"]

    migrate = subprocess.run(
        [sys.executable, "-m", "taskflow_backend.db.migrate"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert httpx.get(backend.base_url + "/readyz").status_code == 200

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'zz_from_a_newer_release'")
    rolled_back = start_backend(database_url, "http://127.0.0.1:9/mcp", RUN_MIGRATIONS="false")
    assert httpx.get(rolled_back.base_url + "/readyz").status_code == 200


def test_the_migration_of_an_older_release_leaves_a_newer_schema_alone(
    new_database_url: Callable[[], str],
) -> None:
    """A rollback runs the older release's init container against the newer release's schema: it
    must finish (exit 0) and change nothing, or the older pods never start."""
    database_url = new_database_url()

    def migrate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "taskflow_backend.db.migrate"],
            env={**os.environ, "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    first = migrate()
    assert first.returncode == 0, first.stdout + first.stderr
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'zz_from_a_newer_release'")
    rollback = migrate()
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert "unknown to this release" in rollback.stdout + rollback.stderr
    with psycopg.connect(database_url) as connection:
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert versions == [("zz_from_a_newer_release",)]
