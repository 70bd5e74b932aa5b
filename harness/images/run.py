"""Run a long command with its output in a log, a heartbeat on stderr, and the log's tail on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import UserError

from .paths import cache_root

HEARTBEAT_SECONDS = 20.0
TAIL_LINES = 20
# Wall seconds of the last successful run of each named step on this machine, so a long step
# says how long it took here last time instead of only how long it has been running.
STEP_TIMES_NAME = "step-times.json"


def _step_times(path: Path) -> dict[str, dict[str, object]]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def last_seconds(step: str) -> float | None:
    """How long `step` took the last time it ran here, if it ever did."""
    entry = _step_times(cache_root() / STEP_TIMES_NAME).get(step)
    seconds = entry.get("seconds") if isinstance(entry, dict) else None
    return float(seconds) if isinstance(seconds, (int, float)) else None


def record_seconds(step: str, seconds: float) -> None:
    path = cache_root() / STEP_TIMES_NAME
    times = _step_times(path)
    times[step] = {"seconds": round(seconds, 1), "measured": datetime.now(UTC).strftime("%Y-%m-%d")}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(times, stream, indent=1, sort_keys=True)
    os.replace(temporary, path)


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
    step: str | None = None,
) -> float:
    """Run argv with stdout+stderr appended to `log`; return the seconds it took.

    Prints `what` when it starts, a line every `heartbeat` seconds while it runs, and raises a
    UserError carrying the log's last lines when it fails. `step` names a long step the same way
    on every run (no tags or digests): its lines then say how long it took here last time.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    last = last_seconds(step) if step else None
    expected = f" of ~{last:.0f} s last time here" if last is not None else ""
    say(f"{what} ..." + (f" (took {last:.0f} s last time here)" if last is not None else ""))
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
                say(f"... still {what} ({time.monotonic() - started:.0f} s{expected}, log: {log})")
    elapsed = time.monotonic() - started
    if returncode != 0:
        raise UserError(
            f"{what} failed (exit {returncode}); last lines of {log}:\n{log_tail(log)}\n",
            fix=fix,
        )
    if step:
        record_seconds(step, elapsed)
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
