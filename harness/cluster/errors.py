"""The one error type the cluster code raises for things a person can fix."""

from __future__ import annotations

from pathlib import Path

from harness.errors import UserError


class ClusterError(UserError):
    """A failure with its cause, the fix, and optionally a log whose tail explains it.

    The CLI prints these without a traceback; everything else is a bug.
    """

    def __init__(self, cause: str, fix: str = "", log: Path | None = None) -> None:
        super().__init__(cause, fix=fix or None)
        self.cause = cause
        self.fix = fix
        self.log = log

    def render(self, tail_lines: int = 25) -> str:
        parts = [f"error: {self.cause}"]
        if self.log is not None:
            parts.append(f"--- last lines of {self.log} ---")
            parts.append(log_tail(self.log, tail_lines))
            parts.append("---")
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return "\n".join(parts)


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError as exc:
        return f"(cannot read {path}: {exc.strerror})"
    text = data.decode("utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) if text else "(log is empty)"
