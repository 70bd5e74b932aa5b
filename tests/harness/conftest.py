"""Fixtures shared by the harness tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.cluster import build


@pytest.fixture
def hello_go_build(tmp_path: Path) -> build.GoBuild:
    """A real one-file Go module that prints "hello" on stderr: the cheapest real `go build`."""
    if shutil.which("go") is None and not Path("/usr/local/go/bin/go").is_file():
        pytest.skip("the Go toolchain is not installed")
    module = tmp_path / "src"
    module.mkdir()
    (module / "go.mod").write_text("module example.test/hello\n\ngo 1.22\n")
    (module / "main.go").write_text('package main\n\nfunc main() { println("hello") }\n')
    return build.GoBuild(
        name="hello", version="v1", module_dir=module, packages={"hello": "example.test/hello"}
    )
