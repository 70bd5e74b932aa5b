"""Run the Taskflow apps as real processes on loopback ports, the way their images run them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import anyio
import httpx

T = TypeVar("T")

START_TIMEOUT_SECONDS = float(os.environ.get("TASKFLOW_TEST_START_TIMEOUT", "90"))
STOP_TIMEOUT_SECONDS = 30.0


def run_async(function: Callable[..., Awaitable[T]], *args: object) -> T:
    """anyio.run in a thread of its own: Playwright's sync API (tests/apps/e2e) keeps an event loop
    running in the main thread for the whole session, where a second one cannot start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, function, *args).result()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class AppProcess:
    """`python -m <module>` with `env`, listening on 127.0.0.1:`port`, ready when `health_path` says 200."""

    module: str
    env: Mapping[str, str]
    log_path: Path
    health_path: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> AppProcess:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.module} is already running")
        env = {**os.environ, **self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited during start-up:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + self.health_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.module} not ready on {self.base_url} after {timeout:.0f}s:\n{self.log_tail()}"
        )

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Send `sig`, wait for the exit (killing it after STOP_TIMEOUT_SECONDS); the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class SignedUpUser:
    user_id: str
    email: str
    password: str
    token: str
    client: httpx.Client

    @property
    def tasks_path(self) -> str:
        return f"/api/{self.user_id}/tasks"

    @property
    def chat_path(self) -> str:
        return f"/api/{self.user_id}/chat"
