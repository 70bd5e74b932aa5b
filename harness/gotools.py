"""Command-line tools built once from the Go module proxy into a version-keyed cache outside the repo.

Every machine then runs the same pinned version (kustomize for rendering, kube-score for the
peer lint) without a registry or a package manager of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UserError
from harness.gotoolchain import go_command, this_platform
from harness.locks import held

BUILD_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class GoTool:
    name: str
    module: str  # the package `go install` builds, e.g. sigs.k8s.io/kustomize/kustomize/v5
    version: str


def cache_root() -> Path:
    configured = os.environ.get("TASKFLOW_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "taskflow"


def tool_path(tool: GoTool) -> Path:
    return cache_root() / "bin" / f"{tool.name}-{tool.version}" / tool.name


def ensure_tool(tool: GoTool) -> Path:
    """The cached binary, built with `go install` on first use."""
    binary = tool_path(tool)
    if os.access(binary, os.X_OK):
        return binary
    go = go_command(cache_root())
    if go is None:
        raise UserError(
            f"{tool.name} {tool.version} is not built yet, there is no Go toolchain on PATH to build it,"
            f" and no pinned Go download for {this_platform()}",
            where=str(binary),
            fix=f"install Go 1.26 or newer and put `go` on PATH; the first use then builds {tool.name}",
        )
    binary.parent.parent.mkdir(parents=True, exist_ok=True)
    with held(
        binary.parent.parent / f".{tool.name}-{tool.version}.lock", f"the build of {tool.name} {tool.version}"
    ):
        if not os.access(binary, os.X_OK):
            _go_install(go, tool, binary)
    return binary


def _go_install(go: str, tool: GoTool, binary: Path) -> None:
    print(f"building {tool.name} {tool.version} from the Go module proxy (once)...", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=binary.parent.parent, prefix=f".{tool.name}-build-") as scratch:
        environment = {**os.environ, "GOBIN": scratch, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
        try:
            completed = subprocess.run(
                [go, "install", f"{tool.module}@{tool.version}"],
                cwd=scratch,
                env=environment,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UserError(
                f"building {tool.name} {tool.version} took over {BUILD_TIMEOUT_SECONDS} s",
                where=go,
                fix="check that the Go module proxy (GOPROXY) answers, then rerun",
            ) from None
        if completed.returncode != 0:
            raise UserError(
                f"`go install {tool.module}@{tool.version}` failed: {last_line(completed.stderr)}",
                where=go,
                fix="check that the Go module proxy (GOPROXY) answers and that Go is 1.26 or newer",
            )
        built = Path(scratch) / tool.name
        if not built.is_file():
            raise UserError(
                f"`go install {tool.module}@{tool.version}` produced no `{tool.name}` binary",
                where=go,
                fix="check the module path of the pinned tool",
            )
        binary.parent.mkdir(parents=True, exist_ok=True)
        os.replace(built, binary)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
