"""Locust, in a process of its own, running load/ the way a user runs it by hand.

Isolation from pytest: Locust gevent-patches the interpreter that imports it, and its pytest plugin
would import it into pytest (pyproject.toml's addopts carry `-p no:locust` against that). The
harness never imports locust: it starts `python -m locust -f load/ --headless ...` as a child in a
session of its own, passes everything as command-line options, and reads back only files: the
timeline (a JSON line every 5 s), the per-phase summary, Locust's HTML report and CSV files. On
any error or interrupt the whole process group is stopped, so no Locust outlives the run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UserError

LOAD_DIR = Path(__file__).resolve().parents[1] / "load"
PROGRESS_EVERY_SECONDS = 30.0
STOP_GRACE_SECONDS = 15.0
EXIT_BAD_TARGET = 2
EXIT_STOPPED_EARLY = 3


@dataclass(frozen=True)
class LoadTarget:
    """The ingress as Locust sees it: a URL with the real host name, dialled at `address`."""

    url: str
    address: str
    ca_file: Path | None = None


@dataclass
class LoadRun:
    """What one Locust run left behind in its output folder."""

    out_dir: Path
    prefix: str
    returncode: int | None = None
    started: float = 0.0
    finished: float = 0.0
    pid: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def path(self, suffix: str) -> Path:
        return self.out_dir / f"{self.prefix}{suffix}"

    @property
    def html(self) -> Path:
        return self.path(".html")

    @property
    def log(self) -> Path:
        return self.path(".log")

    @property
    def timeline_file(self) -> Path:
        return self.path("-timeline.jsonl")

    @property
    def summary_file(self) -> Path:
        return self.path("-summary.json")

    def phase(self, name: str) -> dict[str, Any] | None:
        phases: dict[str, dict[str, Any]] = self.summary.get("phases", {})
        return phases.get(name)

    def stopped_early(self) -> str:
        """Why Locust stopped before its shape ended ('' when it did not)."""
        if self.returncode in (EXIT_BAD_TARGET, EXIT_STOPPED_EARLY):
            return self.log_tail(lines=400, matching="taskflow-load: ") or f"exit {self.returncode}"
        if self.returncode not in (0, 1):  # 1: some request failed, which the verdict judges
            return f"locust exited {self.returncode}: {self.log_tail(lines=5)}"
        return str(self.summary.get("aborted") or "")

    def log_tail(self, lines: int = 20, matching: str = "") -> str:
        if not self.log.exists():
            return ""
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        chosen = [line for line in text if matching in line] if matching else text
        return "\n".join(chosen[-1:] if matching else chosen)

    def read_outputs(self) -> None:
        if self.summary_file.exists():
            self.summary = json.loads(self.summary_file.read_text(encoding="utf-8"))
        if self.timeline_file.exists():
            self.timeline = [
                json.loads(line)
                for line in self.timeline_file.read_text(encoding="utf-8").splitlines()
                if line
            ]


def locust_command(target: LoadTarget, run: LoadRun, shape_args: list[str]) -> list[str]:
    # Locust runs in the run directory, so a relative CA path would point nowhere.
    tls = ["--ca-file", str(target.ca_file.resolve())] if target.ca_file else ["--insecure"]
    return [
        sys.executable, "-m", "locust", "-f", str(LOAD_DIR), "--headless",
        "--host", target.url, "--ingress-address", target.address, *tls,
        "--html", str(run.html), "--csv", str(run.out_dir / run.prefix),
        "--timeline", str(run.timeline_file), "--summary-file", str(run.summary_file),
        "--only-summary", "--exit-code-on-error", "1",
        *shape_args,
    ]  # fmt: skip


def run_locust(
    target: LoadTarget,
    out_dir: Path,
    shape_args: list[str],
    *,
    timeout: float,
    prefix: str = "locust",
    on_start: Callable[[int], None] | None = None,
) -> LoadRun:
    """Run Locust to the end of its shape (or `timeout`), printing progress; returns its outputs.

    `on_start` gets Locust's PID as soon as it runs (the sampler measures its CPU)."""
    if importlib.util.find_spec("locust") is None:  # locates the package, never imports it
        raise UserError("Locust is not installed here", fix="pip install -e '.[load]'")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    run = LoadRun(out_dir, prefix)
    for stale in (run.timeline_file, run.summary_file):
        stale.unlink(missing_ok=True)
    command = locust_command(target, run, shape_args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run.started = time.time()
    with run.log.open("w", encoding="utf-8") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=out_dir
        )
    run.pid = process.pid
    try:
        if on_start is not None:
            on_start(process.pid)
        run.returncode = wait_with_progress(process, run, timeout)
    finally:
        stop_process_group(process)
        run.finished = time.time()
        run.read_outputs()
    return run


def wait_with_progress(process: subprocess.Popen[bytes], run: LoadRun, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    next_progress = time.monotonic() + PROGRESS_EVERY_SECONDS
    while True:
        try:
            return process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now > deadline:
            raise UserError(
                f"Locust ran past its {timeout:.0f} s budget",
                where=str(run.log),
                fix="read the log; the shape's phases should end well within the budget",
            )
        if now >= next_progress:
            next_progress = now + PROGRESS_EVERY_SECONDS
            print(f"  … load: {progress_line(run)}", file=sys.stderr, flush=True)


def progress_line(run: LoadRun) -> str:
    if not run.timeline_file.exists():
        return "starting"
    lines = run.timeline_file.read_text(encoding="utf-8").splitlines()
    if not lines:
        return "starting"
    last = json.loads(lines[-1])
    p95 = f"{last['p95_ms']:.0f} ms" if last.get("p95_ms") is not None else "-"
    return (
        f"{last['phase']} {last['elapsed']:.0f}s: {last['users']} users, {last['rps']:.1f} req/s, "
        f"{last['failures_per_s']:.1f} failures/s, p95 {p95}"
    )


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop Locust and anything it started (SIGTERM, then SIGKILL after a grace period)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
