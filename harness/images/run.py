"""Run a long command with its output in a log, a heartbeat on stderr, and the log's tail on failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import UserError

HEARTBEAT_SECONDS = 20.0
TAIL_LINES = 20


def say(message: str) -> None:
    print(f"images: {message}", file=sys.stderr, flush=True)


def log_tail(log: Path, lines: int = TAIL_LINES) -> str:
    try:
        data = log.read_bytes()[-32 * 1024 :]
    except OSError as error:
        return f"(cannot read {log}: {error.strerror})"
    text = data.decode("utf-8", errors="replace").splitlines()
    return "\n".join(f"  | {line}" for line in text[-lines:]) if text else "  | (log is empty)"


def run_logged(
    argv: Sequence[str],
    *,
    what: str,
    log: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    fix: str | None = None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> float:
    """Run argv with stdout+stderr appended to `log`; return the seconds it took.

    Prints `what` when it starts, a line every `heartbeat` seconds while it runs, and raises a
    UserError carrying the log's last lines when it fails.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say(f"{what} ...")
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env={**os.environ, **env} if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except FileNotFoundError as error:
            raise UserError(f"{argv[0]} is not installed", where=what, fix=fix) from error
        while True:
            try:
                returncode = proc.wait(timeout=heartbeat)
                break
            except subprocess.TimeoutExpired:
                say(f"... still {what} ({time.monotonic() - started:.0f} s, log: {log})")
    elapsed = time.monotonic() - started
    if returncode != 0:
        raise UserError(
            f"{what} failed (exit {returncode}); last lines of {log}:\n{log_tail(log)}\n",
            fix=fix,
        )
    say(f"{what}: done in {elapsed:.1f} s")
    return elapsed


def capture(argv: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a short query command and return its result; never raises, a missing program gives 127."""
    try:
        return subprocess.run(
            list(argv), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        return subprocess.CompletedProcess(list(argv), 127, "", str(error))
