"""The cache keys: a change to any input makes a new key, nothing else does."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from harness.images.apps import APPS, app_key
from harness.images.recipes import PYTHON, RECIPES
from harness.images.sources import content_key, source_files


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    root = tmp_path / "backend"
    (root / "src" / "app").mkdir(parents=True)
    (root / "Containerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (root / "src" / "app" / "main.py").write_text("print('hi')\n")
    return root


def key_of(app_dir: Path, **extra: str) -> str:
    return content_key(app_dir, source_files(app_dir), {"base": "b1", **extra})


def test_source_files_skip_build_output_and_caches(app_dir: Path) -> None:
    for junk in (
        "node_modules/x/index.js",
        ".next/server.js",
        "src/app/__pycache__/main.pyc",
        "wheels/a.whl",
    ):
        (app_dir / junk).parent.mkdir(parents=True, exist_ok=True)
        (app_dir / junk).write_text("junk")
    assert source_files(app_dir) == [Path("Containerfile"), Path("pyproject.toml"), Path("src/app/main.py")]


def test_key_is_stable_when_nothing_changes(app_dir: Path) -> None:
    before = key_of(app_dir)
    os.utime(app_dir / "src" / "app" / "main.py", (1, 1))  # a touch is not a change
    (app_dir / "node_modules").mkdir()
    (app_dir / "node_modules" / "big.js").write_text("x" * 1000)
    assert key_of(app_dir) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda d: (d / "src" / "app" / "main.py").write_text("print('bye')\n"),
        lambda d: (d / "Containerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nUSER 10001\n"),
        lambda d: (d / "src" / "app" / "new.py").write_text(""),
        lambda d: (d / "src" / "app" / "main.py").unlink(),
        lambda d: (d / "src" / "app" / "main.py").chmod(0o755),
        lambda d: (d / "src" / "app" / "main.py").rename(d / "src" / "app" / "other.py"),
    ],
    ids=["content", "containerfile", "added", "removed", "executable", "renamed"],
)
def test_key_changes_when_a_source_changes(app_dir: Path, change: object) -> None:
    before = key_of(app_dir)
    change(app_dir)  # type: ignore[operator]
    assert key_of(app_dir) != before


def test_key_changes_with_the_base(app_dir: Path) -> None:
    assert key_of(app_dir, base="b1") != key_of(app_dir, base="b2")


def test_app_key_follows_the_base_recipe_and_the_image_name(app_dir: Path) -> None:
    backend = APPS["backend"]
    files = source_files(app_dir)
    key = app_key(backend, app_dir, files, backend.reference())
    other_base = dataclasses.replace(
        backend, base=dataclasses.replace(PYTHON, packages=(*PYTHON.packages, "curl"))
    )
    assert app_key(other_base, app_dir, files, backend.reference()) != key
    assert app_key(backend, app_dir, files, backend.reference("0.2.0")) != key
    assert app_key(backend, app_dir, files, backend.reference()) == key


def test_base_key_ignores_package_order_but_not_packages_or_suite() -> None:
    reordered = dataclasses.replace(PYTHON, packages=tuple(reversed(PYTHON.packages)))
    assert reordered.key() == PYTHON.key()
    assert dataclasses.replace(PYTHON, packages=PYTHON.packages[:-1]).key() != PYTHON.key()
    assert dataclasses.replace(PYTHON, suite="trixie").key() != PYTHON.key()
    assert dataclasses.replace(PYTHON, trim=("usr/lib/foo",)).key() != PYTHON.key()


def test_base_references_are_local_and_distinct() -> None:
    references = {recipe.reference() for recipe in RECIPES.values()}
    assert len(references) == len(RECIPES)
    assert all(reference.startswith("localhost/taskflow/base-") for reference in references)


def test_app_references_follow_the_contract() -> None:
    assert {app.reference() for app in APPS.values()} == {
        "localhost/taskflow/frontend:0.1.0",
        "localhost/taskflow/backend:0.1.0",
        "localhost/taskflow/mcp-server:0.1.0",
        "localhost/taskflow/postgres:0.1.0",
    }


def test_mcp_server_key_follows_the_backend_it_installs(app_dir: Path, tmp_path: Path) -> None:
    mcp = APPS["mcp-server"]
    backend_dir = tmp_path / "backend-dep"
    backend_dir.mkdir()
    (backend_dir / "models.py").write_text("A = 1\n")
    files = source_files(app_dir)

    def key() -> str:
        return app_key(
            mcp, app_dir, files, mcp.reference(), {"backend": (backend_dir, source_files(backend_dir))}
        )

    before = key()
    assert key() == before
    (backend_dir / "models.py").write_text("A = 2\n")
    assert key() != before
