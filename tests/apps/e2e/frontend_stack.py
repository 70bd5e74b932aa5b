"""The frontend as the tests run it: built from apps/frontend when stale, served by its standalone server.

Also a command, for the nox `tests` session (build once, up front, with the time printed):
    python tests/apps/e2e/frontend_stack.py
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

FRONTEND_DIR = Path(__file__).resolve().parents[3] / "apps" / "frontend"
STANDALONE_DIR = FRONTEND_DIR / ".next" / "standalone"
BUILD_STAMP = FRONTEND_DIR / ".next" / ".taskflow-build-key"
NPM_STAMP = FRONTEND_DIR / "node_modules" / ".taskflow-lock-key"
# Outside the tree: npm ci and next build delete and recreate node_modules/ and .next/.
BUILD_LOCK = (
    Path(tempfile.gettempdir())
    / f"taskflow-frontend-build-{hashlib.sha256(str(FRONTEND_DIR).encode()).hexdigest()[:12]}.lock"
)
# What a build depends on; a change to any of these makes the next session rebuild.
BUILD_INPUTS = ("app", "components", "lib", "public", "scripts")
BUILD_INPUT_FILES = ("package.json", "package-lock.json", "next.config.mjs", "tsconfig.json")
BUILD_TIMEOUT_SECONDS = 900.0
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
# The node that runs the standalone server; e.g. Debian's Node.js 18 to try the image's runtime.
NODE = os.environ.get("TASKFLOW_E2E_NODE", "node")


class FrontendBuildError(RuntimeError):
    """npm ci or next build failed; the message ends with the log's last lines."""


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(FRONTEND_DIR)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def frontend_source_key() -> str:
    files = [FRONTEND_DIR / name for name in BUILD_INPUT_FILES if (FRONTEND_DIR / name).is_file()]
    for directory in BUILD_INPUTS:
        files.extend(path for path in (FRONTEND_DIR / directory).rglob("*") if path.is_file())
    return _hash_files(files)


def _stamp_matches(stamp: Path, key: str) -> bool:
    return stamp.is_file() and stamp.read_text().strip() == key


def _run(command: list[str], log: Path, what: str) -> None:
    started = time.monotonic()
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        result = subprocess.run(
            command,
            cwd=FRONTEND_DIR,
            env={**os.environ, "NEXT_TELEMETRY_DISABLED": "1", "CI": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise FrontendBuildError(f"{what} failed (exit {result.returncode}); log {log}:\n{tail}")
    print(f"{what}: {time.monotonic() - started:.0f}s", flush=True)


def build_frontend(log: Path) -> Path:
    """`npm ci` when the lockfile changed, `npm run build` when any source did; the standalone dir.

    A file lock keeps two test sessions in one working tree from building over each other.
    """
    with BUILD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock_key = _hash_files([FRONTEND_DIR / "package-lock.json"])
        if not _stamp_matches(NPM_STAMP, lock_key):
            _run(["npm", "ci", "--no-audit", "--no-fund"], log, "npm ci")
            NPM_STAMP.write_text(lock_key + "\n")
        source_key = frontend_source_key()
        if not (_stamp_matches(BUILD_STAMP, source_key) and (STANDALONE_DIR / "server.js").is_file()):
            _run(["npm", "run", "build"], log, "next build")
            BUILD_STAMP.write_text(source_key + "\n")
    return STANDALONE_DIR


@dataclass
class FrontendProcess:
    """`node server.js` of the standalone build on 127.0.0.1:`port`, proxying /api to backend_url."""

    standalone: Path
    backend_url: str
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FrontendProcess:
        env = {
            **os.environ,
            "NODE_ENV": "production",
            "NEXT_TELEMETRY_DISABLED": "1",
            "HOSTNAME": "127.0.0.1",
            "PORT": str(self.port),
            "BACKEND_URL": self.backend_url,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [NODE, "server.js"], cwd=self.standalone, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the frontend exited during start-up:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the frontend was not healthy on {self.base_url} in {START_TIMEOUT_SECONDS:.0f}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def main() -> int:
    log = Path(tempfile.gettempdir()) / "taskflow-frontend-build.log"
    try:
        standalone = build_frontend(log)
    except (FrontendBuildError, subprocess.TimeoutExpired) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"frontend build up to date: {standalone}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
