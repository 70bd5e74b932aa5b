"""actionlint, pinned and built from the Go module proxy like kustomize, for the CI workflows."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.gotools import GoTool, ensure_tool

ACTIONLINT = GoTool("actionlint", "github.com/rhysd/actionlint/cmd/actionlint", "v1.7.12")
WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def actionlint(*workflows: Path) -> subprocess.CompletedProcess[str]:
    """Run actionlint over the given workflow files (all of .github/workflows/ when none)."""
    files = workflows or tuple(sorted(WORKFLOWS.glob("*.yml")))
    return subprocess.run(
        [str(ensure_tool(ACTIONLINT)), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
