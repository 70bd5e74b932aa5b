"""Fixtures for the Taskflow apps' tests: real PostgreSQL, real app processes, real HTTP.

Reusable by the end-to-end tests in tests/apps/e2e/ (they see this conftest). Everything runs on
127.0.0.1 on free ports; nothing needs a cluster, Docker or a network.

Session-scoped (started once, stopped at the end of the run):
- ``postgresql_proc``   PostgreSQL 15 (Debian's binaries, run by pytest-postgresql's executor; as
                        root the server runs as the ``postgres`` user, see pg_ctl_as_postgres.sh).
- ``database_url``      ``postgresql://...`` of the database the session's apps share (the apps
                        migrate it themselves at start-up, as in the cluster).
- ``jwt_secret``        the JWT_SECRET the session's backend signs tokens with.
- ``mcp_token_secret``  the MCP_TOKEN_SECRET the backend signs MCP call tokens with (and MCP checks).
- ``mcp_server``        ``python -m taskflow_mcp`` (an ``AppProcess``): ``.base_url`` is its root,
                        ``.base_url + "/mcp"`` the MCP endpoint.
- ``backend_server``    ``python -m taskflow_backend`` using both: ``.base_url`` is its root.
- ``backend_url``       the same root URL, as a string (e.g. for the frontend's BACKEND_URL).
- ``new_database_url``  factory: ``new_database_url()`` makes a fresh empty database, returns its URL.
- ``start_mcp_server`` / ``start_backend``  factories for extra processes with their own settings
                        (``start_backend(database_url, mcp_url, **env)``); stopped at session end.
                        Use these, not the shared ones, to stop or break a process in a test.

Function-scoped:
- ``signed_up_user``    a new user signed up on ``backend_server``: ``.user_id``, ``.email``,
                        ``.password``, ``.token``, and ``.client``, an ``httpx.Client`` whose base URL
                        is the backend root and which sends the bearer token.
- ``sign_up``           factory: ``sign_up(base_url)`` signs up another user on any backend.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from app_processes import AppProcess, SignedUpUser, free_port
from postgres_container import ContainerServer, postgres_container_fixture  # noqa: F401 - a fixture
from pytest_postgresql.executors import PostgreSQLExecutor

PG_CTL = Path(__file__).with_name("pg_ctl_as_postgres.sh")


@pytest.fixture(scope="session")
def postgresql_proc(
    postgres_container: ContainerServer | None,
) -> Iterator[PostgreSQLExecutor | ContainerServer]:
    """PostgreSQL through pytest-postgresql's executor, with its data outside pytest's temp root:
    every pytest run on the machine resets that root to mode 0700, which would lock out the
    `postgres` user the server runs as when the tests run as root. With a Docker engine, the
    server is our postgres image through testcontainers instead (postgres_container.py)."""
    if postgres_container is not None:
        yield postgres_container
        return
    pg_ctl = Path(os.environ.get("TASKFLOW_PG_CTL", "/usr/lib/postgresql/15/bin/pg_ctl"))
    if not pg_ctl.exists():
        pytest.skip(
            f"{pg_ctl} is missing: `nox -s tests` installs Debian's postgresql when it may (root or sudo)"
        )
    root = Path(tempfile.mkdtemp(prefix="taskflow-pg-"))
    executor = PostgreSQLExecutor(
        executable=str(PG_CTL),
        host="127.0.0.1",
        port=free_port(),
        datadir=str(root / "data"),
        unixsocketdir=str(root),
        logfile=str(root / "postgresql.log"),
        startparams="-w",
        dbname="taskflow_tests",
        postgres_options="-c max_connections=300 -c fsync=off",
    )
    try:
        executor.start()
        executor.wait_for_postgres()
        _wait_for_connections(_server_url(executor, "postgres"))
        yield executor
    finally:
        if executor.running():
            executor.stop()
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_connections(url: str, timeout: float = 60.0) -> None:
    """The port opens before the server takes connections ("the database system is starting up")."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _server_url(proc: PostgreSQLExecutor | ContainerServer, dbname: str) -> str:
    password = f":{proc.password}" if proc.password else ""
    return f"postgresql://{proc.user}{password}@{proc.host}:{proc.port}/{dbname}"


@pytest.fixture(scope="session")
def new_database_url(postgresql_proc: PostgreSQLExecutor) -> Callable[[], str]:
    def create() -> str:
        name = f"taskflow_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_server_url(postgresql_proc, "postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return _server_url(postgresql_proc, name)

    return create


@pytest.fixture(scope="session")
def database_url(new_database_url: Callable[[], str]) -> str:
    return new_database_url()


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def mcp_token_secret() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def app_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app-logs")


@pytest.fixture(scope="session")
def _started(postgresql_proc: PostgreSQLExecutor) -> Iterator[list[AppProcess]]:
    """Every app process the session started, stopped before PostgreSQL is."""
    processes: list[AppProcess] = []
    yield processes
    for process in reversed(processes):
        process.stop()


@pytest.fixture(scope="session")
def start_mcp_server(
    _started: list[AppProcess], app_logs: Path, mcp_token_secret: str
) -> Callable[..., AppProcess]:
    def start(database_url: str, **env: str) -> AppProcess:
        process = AppProcess(
            "taskflow_mcp",
            env={
                "DATABASE_URL": database_url,
                "MCP_TOKEN_SECRET": mcp_token_secret,
                "LOG_LEVEL": "INFO",
                **env,
            },
            log_path=app_logs / f"mcp-{len(_started)}.log",
            health_path="/health",
        )
        _started.append(process)
        return process.start()

    return start


@pytest.fixture(scope="session")
def start_backend(
    _started: list[AppProcess], app_logs: Path, jwt_secret: str, mcp_token_secret: str
) -> Callable[..., AppProcess]:
    def start(database_url: str, mcp_url: str, wait: bool = True, **env: str) -> AppProcess:
        process = AppProcess(
            "taskflow_backend",
            env={
                "DATABASE_URL": database_url,
                "JWT_SECRET": jwt_secret,
                "MCP_TOKEN_SECRET": mcp_token_secret,
                "MCP_SERVER_URL": mcp_url,
                # The whole suite signs up from 127.0.0.1; test_request_limits sets tighter limits.
                "AUTH_RATE_PER_MINUTE": "100000",
                "AUTH_BURST": "10000",
                "MCP_CONNECT_TIMEOUT_SECONDS": "1",
                "MCP_TIMEOUT_SECONDS": "5",
                "MCP_RETRY_AFTER_SECONDS": "5",
                "LOG_LEVEL": "INFO",
                **env,
            },
            log_path=app_logs / f"backend-{len(_started)}.log",
            health_path="/readyz",
        )
        _started.append(process)
        return process.start(wait=wait)

    return start


@pytest.fixture(scope="session")
def mcp_server(start_mcp_server: Callable[..., AppProcess], database_url: str) -> AppProcess:
    return start_mcp_server(database_url)


@pytest.fixture(scope="session")
def backend_server(
    start_backend: Callable[..., AppProcess], database_url: str, mcp_server: AppProcess
) -> AppProcess:
    return start_backend(database_url, mcp_server.base_url + "/mcp")


@pytest.fixture(scope="session")
def backend_url(backend_server: AppProcess) -> str:
    return backend_server.base_url


@pytest.fixture
def sign_up() -> Iterator[Callable[[str], SignedUpUser]]:
    clients: list[httpx.Client] = []

    def create(base_url: str) -> SignedUpUser:
        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        password = secrets.token_urlsafe(12)
        response = httpx.post(
            f"{base_url}/api/auth/signup",
            json={"email": email, "password": password, "name": "Test"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=30
        )
        clients.append(client)
        return SignedUpUser(body["user_id"], email, password, body["access_token"], client)

    yield create
    for client in clients:
        client.close()


@pytest.fixture
def signed_up_user(sign_up: Callable[[str], SignedUpUser], backend_server: AppProcess) -> SignedUpUser:
    return sign_up(backend_server.base_url)
