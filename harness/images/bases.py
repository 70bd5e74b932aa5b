"""Base images in the builder's store, built from their recipe when missing; a warm run builds nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.locks import held

from . import builders
from .host import Builder
from .paths import ImagePaths
from .recipes import BaseRecipe
from .rootfs import ensure_rootfs, rootfs_archive


@dataclass(frozen=True)
class BaseImage:
    recipe: BaseRecipe
    reference: str
    key: str


def ensure_base(
    recipe: BaseRecipe, builder: Builder, paths: ImagePaths | None = None, mirror: str | None = None
) -> BaseImage:
    """The recipe's image, present in the builder's store when this returns."""
    paths = paths or ImagePaths.default()
    image = BaseImage(recipe=recipe, reference=recipe.reference(), key=recipe.key())
    log = paths.logs / f"base-{recipe.name}.log"
    builders.prepare(builder, log)
    if builders.image_exists(builder, image.reference):
        return image
    with held(paths.work / f"base-{recipe.name}.lock", f"the build of the {recipe.name} base"):
        if not builders.image_exists(builder, image.reference):
            archive = ensure_rootfs(recipe, paths, mirror)
            builders.import_rootfs(builder, recipe, archive, log)
            builders.remove_other_tags(builder, image.reference)
    return image


def cached_rootfs(recipe: BaseRecipe, paths: ImagePaths | None = None) -> Path | None:
    archive = rootfs_archive(recipe, paths or ImagePaths.default())
    return archive if archive.is_file() else None
