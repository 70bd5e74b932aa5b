"""build_app: cache hits need no builder, misses prepare the context and export an archive."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.images import apps as apps_module
from harness.images import builders
from harness.images.apps import APPS, build_app, build_images
from harness.images.bases import BaseImage
from harness.images.context import ContextKind, prepare_context
from harness.images.host import Builder
from harness.images.paths import ImagePaths
from harness.images.recipes import BaseRecipe
from harness.images.sources import source_files
from harness.locks import held


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    postgres = tmp_path / "repo" / "apps" / "postgres"
    postgres.mkdir(parents=True)
    (postgres / "Containerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nUSER 10001\n")
    (postgres / "initdb.sh").write_text("#!/bin/sh\n")
    return tmp_path / "repo"


@pytest.fixture
def paths(tmp_path: Path) -> ImagePaths:
    return ImagePaths(tmp_path / "cache")


class FakeBuilder:
    """Stands in for buildah: records builds and writes an archive like `buildah push` would."""

    def __init__(self) -> None:
        self.builds: list[dict[str, object]] = []

    def build(self, builder: Builder, *, context: Path, containerfile: Path, reference: str,
              build_args: Mapping[str, str], log: Path, fix: str | None = None) -> float:  # fmt: skip
        self.builds.append(
            {"context_files": sorted(p.name for p in context.iterdir()), "reference": reference, **build_args}
        )
        return 0.1

    def save(self, builder: Builder, reference: str, archive: Path, log: Path) -> None:
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.write_bytes(b"docker-archive of " + reference.encode())


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeBuilder:
    fake = FakeBuilder()
    monkeypatch.setattr(builders, "build", fake.build)
    monkeypatch.setattr(builders, "save", fake.save)
    monkeypatch.setattr(builders, "image_id", lambda builder, reference: None)

    def fake_base(recipe: BaseRecipe, builder: Builder, paths: ImagePaths | None = None) -> BaseImage:
        return BaseImage(recipe, recipe.reference(), recipe.key())

    monkeypatch.setattr(apps_module, "ensure_base", fake_base)
    return fake


def test_first_build_then_cache_hit(repo: Path, paths: ImagePaths, fake: FakeBuilder) -> None:
    first = build_app(APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo)
    assert not first.cached
    assert first.reference == "localhost/taskflow/postgres:0.1.0"
    assert first.archive.read_bytes() == b"docker-archive of localhost/taskflow/postgres:0.1.0"
    assert fake.builds == [
        {
            "context_files": ["Containerfile", "initdb.sh"],
            "reference": "localhost/taskflow/postgres:0.1.0",
            "BASE_IMAGE": APPS["postgres"].base.reference(),
        }
    ]

    again = build_app(APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo)
    assert again.cached
    assert again.archive == first.archive
    assert len(fake.builds) == 1


def test_changed_source_rebuilds_and_keeps_the_previous_archive(
    repo: Path, paths: ImagePaths, fake: FakeBuilder
) -> None:
    first = build_app(APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo)
    (repo / "apps" / "postgres" / "initdb.sh").write_text("#!/bin/sh\necho changed\n")
    second = build_app(APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo)
    assert not second.cached
    assert second.archive != first.archive
    assert first.archive.exists() and second.archive.exists()
    assert len(fake.builds) == 2


def test_force_rebuilds(repo: Path, paths: ImagePaths, fake: FakeBuilder) -> None:
    build_app(APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo)
    assert not build_app(
        APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo, force=True
    ).cached
    assert len(fake.builds) == 2


def test_missing_containerfile_names_the_file(repo: Path, paths: ImagePaths, fake: FakeBuilder) -> None:
    (repo / "apps" / "backend").mkdir()
    with pytest.raises(UserError) as error:
        build_app(APPS["backend"], builder=Builder.BUILDAH, paths=paths, repo_root=repo)
    assert "backend has no Containerfile" in str(error.value)
    assert str(repo / "apps" / "backend" / "Containerfile") in str(error.value)
    assert fake.builds == []


def test_unknown_app_lists_the_known_ones(paths: ImagePaths) -> None:
    with pytest.raises(UserError, match=r"unknown app web .*backend, mcp-server, frontend, postgres"):
        build_images(["web"], paths=paths)


def test_plain_context_holds_exactly_the_sources(repo: Path, paths: ImagePaths) -> None:
    app_dir = repo / "apps" / "postgres"
    (app_dir / "__pycache__").mkdir()
    (app_dir / "__pycache__" / "x.pyc").write_bytes(b"")

    def prepare() -> Path:
        files = source_files(app_dir)
        return prepare_context(
            ContextKind.PLAIN, "postgres", app_dir=app_dir, files=files, paths=paths, log=paths.logs / "l"
        )

    context = prepare()
    assert sorted(p.relative_to(context).as_posix() for p in context.rglob("*")) == [
        "Containerfile",
        "initdb.sh",
    ]
    # a second preparation starts from scratch, so removed sources do not linger
    (app_dir / "initdb.sh").unlink()
    context = prepare()
    assert [p.name for p in context.iterdir()] == ["Containerfile"]


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `npm` that logs its arguments and makes what `npm ci` / `npm run build` would."""
    calls = tmp_path / "npm-calls"
    npm = tmp_path / "bin" / "npm"
    npm.parent.mkdir()
    npm.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        'if [ "$1" = ci ]; then mkdir -p node_modules/next; fi\n'
        'if [ "$1" = run ]; then mkdir -p .next/standalone .next/static .next/cache\n'
        "  touch .next/standalone/server.js\n"
        "fi\n"
    )
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{npm.parent}:{os.environ['PATH']}")
    return calls


def test_frontend_context_reuses_node_modules_until_the_lock_changes(
    tmp_path: Path, paths: ImagePaths, fake_npm: Path
) -> None:
    app_dir = tmp_path / "frontend"
    app_dir.mkdir()
    for name, text in {"Containerfile": "FROM x\n", "package.json": "{}", "package-lock.json": "{}"}.items():
        (app_dir / name).write_text(text)

    def prepare() -> Path:
        files = source_files(app_dir)
        return prepare_context(
            ContextKind.NODE, "frontend", app_dir=app_dir, files=files, paths=paths, log=paths.logs / "l"
        )

    context = prepare()
    assert (context / ".next" / "standalone" / "server.js").is_file()
    assert not (context / "node_modules").exists() and not (context / ".next" / "cache").exists()
    prepare()
    assert fake_npm.read_text().splitlines() == ["ci --no-audit --no-fund", "run build", "run build"]
    (app_dir / "package-lock.json").write_text('{"lockfileVersion": 3}')
    prepare()
    assert fake_npm.read_text().splitlines()[-2:] == ["ci --no-audit --no-fund", "run build"]


def test_frontend_without_standalone_output_says_what_to_set(
    tmp_path: Path, paths: ImagePaths, fake_npm: Path
) -> None:
    app_dir = tmp_path / "frontend"
    app_dir.mkdir()
    for name in ("package.json", "package-lock.json"):
        (app_dir / name).write_text("{}")
    npm = Path(os.environ["PATH"].split(":")[0]) / "npm"
    npm.write_text(npm.read_text().replace("touch .next/standalone/server.js", "true"))
    with pytest.raises(UserError, match=r"no \.next/standalone/server\.js .*output: 'standalone'"):
        prepare_context(
            ContextKind.NODE,
            "frontend",
            app_dir=app_dir,
            files=source_files(app_dir),
            paths=paths,
            log=paths.logs / "l",
        )


def test_a_second_run_waits_for_the_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "app-backend.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with held(lock, "the build of the backend image"):
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited >= 0.5
    assert "waiting for the build of the backend image held by pid" in capsys.readouterr().err


HOLD_LOCK = """
import fcntl, sys, time
with open(sys.argv[1], "a") as handle:
    fcntl.flock(handle, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(1)
"""


def test_registry_bases_build_on_the_containerfile_default(
    repo: Path, paths: ImagePaths, fake: FakeBuilder
) -> None:
    debian = build_app(APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo)
    registry = build_app(
        APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo, bases="registry"
    )
    assert registry.key != debian.key and not registry.cached
    assert "BASE_IMAGE" not in fake.builds[-1]
    with pytest.raises(UserError, match="unknown base image source 'alpine'"):
        build_app(APPS["postgres"], builder=Builder.BUILDAH, paths=paths, repo_root=repo, bases="alpine")
