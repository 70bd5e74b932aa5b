"""App and base images for hosts with no registry: Debian bases from debootstrap, app images
from each app's Containerfile (buildah, or docker/podman where they run), docker-archive tars
cached by content, and loading into a provider's cluster.

The harness calls:
- `build_images(apps=None, builder="auto") -> list[BuiltImage]` (reference + archive per app)
- `load_archive(provider, archive, cluster_name=None)` for provider local | kind | k3d | minikube
"""

from __future__ import annotations

from .apps import APPS, IMAGE_TAG, BuiltImage, build_app, build_images
from .bases import BaseImage, ensure_base
from .host import Builder, detect_builder
from .load import PROVIDERS, load_archive
from .paths import ImagePaths
from .recipes import RECIPES, BaseRecipe

__all__ = [
    "APPS",
    "IMAGE_TAG",
    "PROVIDERS",
    "RECIPES",
    "BaseImage",
    "BaseRecipe",
    "Builder",
    "BuiltImage",
    "ImagePaths",
    "build_app",
    "build_images",
    "detect_builder",
    "ensure_base",
    "load_archive",
]
