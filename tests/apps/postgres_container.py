"""PostgreSQL for the app tests from testcontainers, when a Docker engine answers.

The image is our own postgres image (apps/postgres, built by harness.images and `docker load`ed),
or $TASKFLOW_TEST_POSTGRES_IMAGE (e.g. the official `postgres:15` on hosts that can pull it).
Without a Docker engine the fixture yields None and conftest.py's pytest-postgresql path (Debian's
binaries) runs instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

IMAGE_ENV = "TASKFLOW_TEST_POSTGRES_IMAGE"


@dataclass(frozen=True)
class ContainerServer:
    """The attributes conftest's `_server_url` reads from pytest-postgresql's executor."""

    user: str
    password: str
    host: str
    port: int


def docker_engine_answers() -> bool:
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    import docker  # noqa: PLC0415 - testcontainers' dependency

    try:
        docker.from_env(timeout=10).ping()
    except Exception:  # any failure means: no engine to use
        return False
    return True


def _our_image() -> str:
    import docker  # noqa: PLC0415

    from harness.images import APPS, build_app  # noqa: PLC0415

    built = build_app(APPS["postgres"])
    client = docker.from_env()
    with built.archive.open("rb") as archive:
        client.images.load(archive.read())
    return built.reference


@pytest.fixture(scope="session", name="postgres_container")
def postgres_container_fixture() -> Iterator[ContainerServer | None]:
    if not docker_engine_answers():
        yield None
        return
    # the reaper's image (testcontainers/ryuk) is not pullable everywhere; the `with` stops ours
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

    image = os.environ.get(IMAGE_ENV) or _our_image()
    password = secrets.token_urlsafe(16)
    container = PostgresContainer(image, username="taskflow", password=password, dbname="taskflow_tests")
    container.with_command("-c max_connections=300 -c fsync=off")
    # loopback only (docker-py's (address,) form; testcontainers' default publishes on every address)
    container.ports["5432"] = ("127.0.0.1",)
    with container:
        yield ContainerServer("taskflow", password, "127.0.0.1", int(container.get_exposed_port(5432)))
