"""Build contexts prepared on the host, where the package registries are reachable.

Nothing inside a build container can reach a registry here, so each context carries what the
Containerfile installs:
- Python apps: the app's sources plus `wheels/`, every wheel it needs (its own included), made
  by the host's pip with the host's pip configuration; the Containerfile installs them with
  `pip install --no-index --find-links wheels/ <app>`.
- the Next.js frontend: the sources plus the result of `npm ci && npm run build` (`.next/standalone`,
  `.next/static`, `public/`); node_modules and the build cache are dropped again.
- anything else (postgres): the sources only.
"""

from __future__ import annotations

import enum
import hashlib
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import UserError

from .paths import ImagePaths
from .run import capture, run_logged, say
from .sources import copy_sources

WHEELS_DIR = "wheels"
# bookworm's python3; wheels with compiled code must match it.
IMAGE_PYTHON = (3, 11)


class ContextKind(enum.StrEnum):
    PYTHON = "python"
    NODE = "node"
    PLAIN = "plain"


def host_pip(paths: ImagePaths, log: Path) -> list[str]:
    """A pip that uses the host's configuration; uv-made venvs have none, so make one if needed."""
    if capture([sys.executable, "-m", "pip", "--version"]).returncode == 0:
        interpreter = sys.executable
    else:
        venv = paths.tools / "pip-venv"
        interpreter = str(venv / "bin" / "python")
        if capture([interpreter, "-m", "pip", "--version"]).returncode != 0:
            run_logged(
                [sys.executable, "-m", "venv", "--clear", str(venv)],
                what="making a pip for preparing wheels",
                log=log,
            )
    version = capture([interpreter, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"])
    found = tuple(int(part) for part in version.stdout.split())
    if found != IMAGE_PYTHON:
        wanted = ".".join(map(str, IMAGE_PYTHON))
        raise UserError(
            f"the host's Python is {'.'.join(map(str, found))} but the images run Python {wanted}",
            fix=f"run the harness with Python {wanted} so downloaded wheels fit the image",
        )
    return [interpreter, "-m", "pip"]


def prepare_python(context: Path, app: str, paths: ImagePaths, log: Path, local_deps: Sequence[Path]) -> None:
    """Wheels for the app and everything it needs; local_deps (source copies) resolve its
    requirements on sibling packages that no index has."""
    pip = host_pip(paths, log)
    run_logged(
        [
            *pip,
            "wheel",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(context / WHEELS_DIR),
            str(context),
            *map(str, local_deps),
        ],
        what=f"collecting wheels for {app}",
        log=log,
        step=f"wheels for {app}",
        fix="check that the package index is reachable with the host's pip configuration",
    )


def _dependency_stamp(context: Path) -> str:
    """What `npm ci` installs depends on: the lock file, package.json and node's version."""
    digest = hashlib.sha256(capture(["node", "--version"]).stdout.encode())
    for name in ("package.json", "package-lock.json"):
        digest.update(hashlib.sha256((context / name).read_bytes()).digest())
    return digest.hexdigest()


def prepare_node(context: Path, app: str, paths: ImagePaths, log: Path) -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise UserError(
                f"{tool} is not installed (the frontend is built on the host)",
                fix="apt-get install -y nodejs npm",
            )
    if not (context / "package-lock.json").is_file():
        raise UserError(
            f"{app} has no package-lock.json", where=str(context), fix="run `npm install` and commit it"
        )
    env = {"NEXT_TELEMETRY_DISABLED": "1", "CI": "1"}
    # node_modules outlives the context while the dependencies stay the same: npm ci is a minute.
    kept = paths.work / f"node_modules-{app}"
    stamp_file = paths.work / f"node_modules-{app}.stamp"
    stamp = _dependency_stamp(context)
    if kept.is_dir() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        kept.rename(context / "node_modules")
        say(f"{app}: dependencies unchanged, reusing node_modules")
    else:
        if kept.exists():
            shutil.rmtree(kept)
        run_logged(
            ["npm", "ci", "--no-audit", "--no-fund"],
            what=f"npm ci for {app}",
            log=log,
            cwd=context,
            env=env,
            step=f"npm ci for {app}",
        )
    stamp_file.unlink(missing_ok=True)
    run_logged(
        ["npm", "run", "build"],
        what=f"next build of {app}",
        log=log,
        cwd=context,
        env=env,
        step=f"next build of {app}",
    )
    if not (context / ".next" / "standalone" / "server.js").is_file():
        raise UserError(
            f"{app}'s build made no .next/standalone/server.js",
            fix="set `output: 'standalone'` in next.config",
        )
    # The standalone output carries its own trimmed node_modules; the full tree stays out of the context.
    (context / "node_modules").rename(kept)
    stamp_file.write_text(stamp)
    shutil.rmtree(context / ".next" / "cache", ignore_errors=True)


def prepare_context(
    kind: ContextKind,
    app: str,
    *,
    app_dir: Path,
    files: Sequence[Path],
    paths: ImagePaths,
    log: Path,
    deps: Mapping[str, tuple[Path, Sequence[Path]]] | None = None,
) -> Path:
    """A fresh build context for `app` under the cache's work directory.

    deps: local packages the app needs (name -> directory and files); copied beside the
    context, never into it, and turned into wheels with the app's.
    """
    context = paths.work / f"context-{app}"
    dep_root = paths.work / f"deps-{app}"
    for directory in (context, dep_root):
        if directory.exists():
            shutil.rmtree(directory)
    context.mkdir(parents=True)
    copy_sources(app_dir, files, context)
    dep_copies: list[Path] = []
    for name, (dep_dir, dep_files) in sorted((deps or {}).items()):
        copy_sources(dep_dir, dep_files, dep_root / name)
        dep_copies.append(dep_root / name)
    if kind is ContextKind.PYTHON:
        prepare_python(context, app, paths, log, dep_copies)
    elif kind is ContextKind.NODE:
        prepare_node(context, app, paths, log)
    return context
