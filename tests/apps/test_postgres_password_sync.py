"""apps/postgres/entrypoint.sh keeps the role's password in step with POSTGRES_PASSWORD.

Every deploy generates a new Secret while the PersistentVolume keeps the cluster; a redeploy onto
the old volume must log in with the new password (and the old one must stop working). The image's
own entrypoint script runs here on Debian's PostgreSQL 15 binaries, twice on one data directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from app_processes import free_port

ENTRYPOINT = Path(__file__).resolve().parents[2] / "apps" / "postgres" / "entrypoint.sh"
PG_BIN = Path(os.environ.get("TASKFLOW_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT_SECONDS = 90.0


@dataclass
class EntrypointServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, password: str) -> str:
        return f"postgresql://taskflow:{password}@127.0.0.1:{self.port}/taskflow"

    def stop(self) -> None:
        # The image's STOPSIGNAL: a fast shutdown.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def volume() -> Iterator[Path]:
    """A data directory the server may own: outside pytest's 0700 temp root, as conftest does."""
    if not (PG_BIN / "postgres").exists():
        pytest.skip(f"{PG_BIN}/postgres is missing: `nox -s tests` installs Debian's postgresql")
    root = Path(tempfile.mkdtemp(prefix="taskflow-pgsync-"))
    (root / "data").mkdir()
    (root / "socket").mkdir()
    if os.geteuid() == 0:
        for path in (root, root / "data", root / "socket"):
            shutil.chown(path, "postgres", "postgres")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start(volume: Path, password: str, run: int) -> EntrypointServer:
    port = free_port()
    log = volume / f"start-{run}.log"
    env = {
        "PATH": f"{PG_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "PGDATA": str(volume / "data" / "pgdata"),
        "POSTGRES_PASSWORD": password,
        "POSTGRES_SOCKET_DIR": str(volume / "socket"),
        "TMPDIR": str(volume),
    }
    # PostgreSQL refuses to run as root (CI runs the tests as root): run as `postgres` then.
    as_postgres = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                "sh",
                str(ENTRYPOINT),
                "-c",
                f"port={port}",
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            env=env,
            cwd=volume,
            stdout=output,
            stderr=subprocess.STDOUT,
            **as_postgres,  # type: ignore[arg-type]
        )
    server = EntrypointServer(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"entrypoint exited with {process.returncode}:\n{log.read_text()}")
        try:
            psycopg.connect(server.url(password), connect_timeout=2).close()
            return server
        except psycopg.OperationalError as error:
            if "password authentication failed" in str(error) or time.monotonic() > deadline:
                server.stop()
                raise AssertionError(
                    f"cannot log in with POSTGRES_PASSWORD: {error}\n{log.read_text()}"
                ) from error
            time.sleep(0.2)


def test_a_redeploy_with_a_new_password_logs_in_on_the_old_volume(volume: Path) -> None:
    first_password = "first-secret-0123456789"
    # A quote and a backslash: the password reaches SQL through the script's escaping.
    second_password = "it's a new \\ secret-9876543210"

    first = _start(volume, first_password, 1)
    try:
        with psycopg.connect(first.url(first_password), autocommit=True) as connection:
            connection.execute("CREATE TABLE kept (note text)")
            connection.execute("INSERT INTO kept VALUES ('written before the redeploy')")
    finally:
        first.stop()
    assert "initialising a new cluster" in first.log.read_text()

    second = _start(volume, second_password, 2)
    try:
        with psycopg.connect(second.url(second_password)) as connection:
            rows = connection.execute("SELECT note FROM kept").fetchall()
        assert rows == [("written before the redeploy",)]
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(second.url(first_password), connect_timeout=5).close()
    finally:
        second.stop()
    second_log = second.log.read_text()
    assert "initialising a new cluster" not in second_log
    assert "password of role taskflow set from POSTGRES_PASSWORD" in second_log
    assert second_password not in second_log
