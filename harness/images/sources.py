"""An app's source files and the content hash that keys its image in the cache."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from .run import capture

# Never inputs of an image: build output, caches and local environments (used outside git).
IGNORED_NAMES = frozenset(
    {
        ".git",
        "node_modules",
        ".next",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".venv",
        "venv",
        ".nox",
        "build",
        "dist",
        "wheels",
        "next-env.d.ts",
    }
)
IGNORED_SUFFIXES = (".pyc", ".egg-info", ".tsbuildinfo")


def _ignored(relative: Path) -> bool:
    return any(part in IGNORED_NAMES or part.endswith(IGNORED_SUFFIXES) for part in relative.parts)


def source_files(app_dir: Path) -> list[Path]:
    """Files (relative to app_dir) that make up the app: git's view (tracked + untracked, minus
    ignored) inside a work tree, else a walk that skips build output and caches."""
    proc = capture(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."], cwd=app_dir
    )
    if proc.returncode == 0:
        listed = {Path(name) for name in proc.stdout.split("\0") if name}
        # ls-files --cached still lists files deleted from the work tree but not yet from the index
        files = {path for path in listed if (app_dir / path).is_file() and not _ignored(path)}
        return sorted(files)
    found: list[Path] = []
    for directory, subdirs, names in os.walk(app_dir):
        base = Path(directory).relative_to(app_dir)
        subdirs[:] = sorted(d for d in subdirs if not _ignored(base / d))
        found += [base / name for name in names if not _ignored(base / name)]
    return sorted(found)


def content_key(app_dir: Path, files: Sequence[Path], extra: Mapping[str, str]) -> str:
    """sha256 over every file's path, executable bit and bytes, plus `extra` (base key, name, ...)."""
    digest = hashlib.sha256(json.dumps(dict(sorted(extra.items()))).encode())
    for relative in files:
        path = app_dir / relative
        executable = os.access(path, os.X_OK)
        digest.update(f"\0{relative.as_posix()}\0{int(executable)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def copy_sources(app_dir: Path, files: Sequence[Path], destination: Path) -> None:
    """Copy exactly the hashed files into a fresh build context."""
    for relative in files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(app_dir / relative, target)
