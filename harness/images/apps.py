"""App images: each app's Containerfile built on a local base and exported as a docker-archive.

An archive is keyed by a hash of everything that goes into it (the app's files, its base recipe,
its name); an unchanged app is never rebuilt, and a cache hit needs neither root nor a builder.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UserError
from harness.locks import held

from . import builders
from .bases import ensure_base
from .context import ContextKind, prepare_context
from .host import Builder, detect_builder
from .paths import REPO_ROOT, ImagePaths
from .recipes import NODE, POSTGRES, PYTHON, BaseRecipe
from .run import say
from .sources import content_key, source_files

# Bump when context preparation or the build command changes: it re-keys every app image.
APP_RECIPE_VERSION = 1
IMAGE_REGISTRY = "localhost/taskflow"
IMAGE_TAG = "0.1.0"
CONTAINERFILE = "Containerfile"
BASE_IMAGE_ARG = "BASE_IMAGE"
ARCHIVES_KEPT_PER_APP = 2
# "debian": bases built here with debootstrap (no registry needed, root needed);
# "registry": each Containerfile's default BASE_IMAGE, for docker/podman hosts that reach one.
BASES_ENV = "TASKFLOW_IMAGE_BASES"
BASE_SOURCES = ("debian", "registry")


def base_source(choice: str | None = None) -> str:
    source = choice or os.environ.get(BASES_ENV) or "debian"
    if source not in BASE_SOURCES:
        raise UserError(f"unknown base image source {source!r}", fix=f"use one of {', '.join(BASE_SOURCES)}")
    return source


@dataclass(frozen=True)
class AppRecipe:
    """An app image: its base and context kind; local_deps are other apps/ packages it installs;
    directory: where its Containerfile is, relative to the repository (default apps/<name>)."""

    name: str
    base: BaseRecipe
    context: ContextKind
    local_deps: tuple[str, ...] = ()
    directory: str = ""

    def source_dir(self, repo_root: Path) -> Path:
        return repo_root / (self.directory or f"apps/{self.name}")

    def reference(self, tag: str = IMAGE_TAG) -> str:
        return f"{IMAGE_REGISTRY}/{self.name}:{tag}"


APPS: dict[str, AppRecipe] = {
    app.name: app
    for app in (
        AppRecipe("backend", PYTHON, ContextKind.PYTHON),
        # The MCP server imports the backend package (one schema), which is on no index.
        AppRecipe("mcp-server", PYTHON, ContextKind.PYTHON, local_deps=("backend",)),
        AppRecipe("frontend", NODE, ContextKind.NODE),
        AppRecipe("postgres", POSTGRES, ContextKind.PLAIN),
    )
}
# Built only when asked for (the distributed load run), never with the apps.
LOCUST = AppRecipe("locust", PYTHON, ContextKind.PYTHON, directory="load/image")


@dataclass(frozen=True)
class BuiltImage:
    """One app image: its fully qualified name and a docker-archive tar that holds it."""

    app: str
    reference: str
    archive: Path
    key: str
    cached: bool
    seconds: float
    bytes: int


def app_recipes(names: Sequence[str] | None) -> list[AppRecipe]:
    if not names:
        return list(APPS.values())
    unknown = [name for name in names if name not in APPS]
    if unknown:
        raise UserError(f"unknown app {', '.join(unknown)}", fix=f"use any of {', '.join(APPS)}")
    return [APPS[name] for name in names]


def app_key(
    app: AppRecipe,
    app_dir: Path,
    files: Sequence[Path],
    reference: str,
    deps: Mapping[str, tuple[Path, Sequence[Path]]] | None = None,
    *,
    bases: str = "debian",
) -> str:
    """deps: for each local dependency, its directory and source files."""
    extra = {
        "app_recipe_version": str(APP_RECIPE_VERSION),
        "app": app.name,
        "reference": reference,
        "base": app.base.key() if bases == "debian" else bases,
    }
    for name, (dep_dir, dep_files) in sorted((deps or {}).items()):
        extra[f"dep:{name}"] = content_key(dep_dir, dep_files, {})
    return content_key(app_dir, files, extra)


def archive_path(app: AppRecipe, key: str, paths: ImagePaths) -> Path:
    return paths.apps / f"{app.name}-{key[:16]}.tar"


def _prune(app: AppRecipe, keep: Path, paths: ImagePaths) -> None:
    """Keep the newest few archives of an app so the cache does not grow without bound."""
    older = sorted(
        (tar for tar in paths.apps.glob(f"{app.name}-*.tar") if tar != keep),
        key=lambda tar: tar.stat().st_mtime,
        reverse=True,
    )
    for tar in older[ARCHIVES_KEPT_PER_APP - 1 :]:
        for path in (tar, tar.with_suffix(".json"), tar.with_suffix(".local-digest")):
            path.unlink(missing_ok=True)


def build_app(
    app: AppRecipe,
    *,
    builder: Builder | str = "auto",
    paths: ImagePaths | None = None,
    repo_root: Path = REPO_ROOT,
    tag: str = IMAGE_TAG,
    force: bool = False,
    bases: str | None = None,
) -> BuiltImage:
    """The app's image archive: from the cache when its inputs are unchanged, else built now.

    bases: "debian" (default, or $TASKFLOW_IMAGE_BASES) or "registry"; see BASES_ENV.
    """
    paths = paths or ImagePaths.default()
    source = base_source(bases)
    app_dir = app.source_dir(repo_root)
    containerfile = app_dir / CONTAINERFILE
    if not containerfile.is_file():
        raise UserError(
            f"{app.name} has no {CONTAINERFILE}",
            where=str(containerfile),
            fix=f"add {containerfile.relative_to(repo_root)} (it takes ARG {BASE_IMAGE_ARG})",
        )
    reference = app.reference(tag)
    files = source_files(app_dir)
    deps = {
        name: (APPS[name].source_dir(repo_root), source_files(APPS[name].source_dir(repo_root)))
        for name in app.local_deps
    }
    key = app_key(app, app_dir, files, reference, deps, bases=source)
    archive = archive_path(app, key, paths)
    if archive.is_file() and not force:
        say(f"{app.name}: unchanged, using {archive}")
        return BuiltImage(app.name, reference, archive, key, True, 0.0, archive.stat().st_size)

    with held(paths.work / f"app-{app.name}.lock", f"the build of the {app.name} image"):
        if archive.is_file() and not force:  # another run built it while this one waited
            return BuiltImage(app.name, reference, archive, key, True, 0.0, archive.stat().st_size)
        chosen = builder if isinstance(builder, Builder) else detect_builder(builder)
        return _build_now(
            app,
            chosen,
            paths=paths,
            app_dir=app_dir,
            files=files,
            deps=deps,
            reference=reference,
            key=key,
            registry_base=source == "registry",
        )


def _build_now(
    app: AppRecipe,
    builder: Builder,
    *,
    paths: ImagePaths,
    app_dir: Path,
    files: Sequence[Path],
    deps: Mapping[str, tuple[Path, Sequence[Path]]],
    reference: str,
    key: str,
    registry_base: bool,
) -> BuiltImage:
    started = time.monotonic()
    archive = archive_path(app, key, paths)
    log = paths.logs / f"app-{app.name}.log"
    log.unlink(missing_ok=True)
    base_reference = (
        "(Containerfile default)" if registry_base else ensure_base(app.base, builder, paths).reference
    )
    context = prepare_context(
        app.context, app.name, app_dir=app_dir, files=files, paths=paths, log=log, deps=deps
    )
    previous = builders.image_id(builder, reference)
    builders.build(
        builder,
        context=context,
        containerfile=context / CONTAINERFILE,
        reference=reference,
        build_args={} if registry_base else {BASE_IMAGE_ARG: base_reference},
        log=log,
        fix=f"fix {app_dir / CONTAINERFILE}; full log: {log}",
    )
    builders.save(builder, reference, archive, log)
    if previous is not None and previous != builders.image_id(builder, reference):
        builders.remove_image(builder, previous)  # the tag moved on; the old image is ours and unused
    seconds = round(time.monotonic() - started, 1)
    metadata = {
        "app": app.name,
        "reference": reference,
        "key": key,
        "base": base_reference,
        "seconds": seconds,
    }
    archive.with_suffix(".json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    _prune(app, archive, paths)
    say(f"{app.name}: {reference} -> {archive} ({archive.stat().st_size / 1e6:.0f} MB, {seconds} s)")
    return BuiltImage(app.name, reference, archive, key, False, seconds, archive.stat().st_size)


def build_images(
    apps: Sequence[str] | None = None,
    *,
    builder: Builder | str = "auto",
    paths: ImagePaths | None = None,
    repo_root: Path = REPO_ROOT,
    tag: str = IMAGE_TAG,
    force: bool = False,
    bases: str | None = None,
) -> list[BuiltImage]:
    """Build (or take from the cache) the named apps' images, all four when `apps` is empty."""
    return [
        build_app(
            recipe, builder=builder, paths=paths, repo_root=repo_root, tag=tag, force=force, bases=bases
        )
        for recipe in app_recipes(apps)
    ]
