"""CLI: python -m harness.images build [APP...] [--load local|kind|minikube] | bases [NAME...] | list."""

from __future__ import annotations

import argparse
import sys

from harness.errors import exits_cleanly_on_user_error

from .apps import APPS, BASE_SOURCES, IMAGE_TAG, build_images
from .bases import cached_rootfs, ensure_base
from .host import Builder, detect_builder
from .load import PROVIDERS, load_archive
from .paths import ImagePaths
from .recipes import RECIPES, recipe_named

BUILDER_CHOICES = ("auto", *(builder.value for builder in Builder))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.images", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build app images (cached by content) and optionally load them")
    build.add_argument("apps", nargs="*", metavar="APP", help=f"any of {', '.join(APPS)} (default: all)")
    build.add_argument("--load", choices=PROVIDERS, help="load the archives into this provider's cluster")
    build.add_argument("--cluster-name", help="kind cluster name / minikube profile for --load")
    build.add_argument("--builder", choices=BUILDER_CHOICES, default="auto")
    build.add_argument("--tag", default=None, help="image tag (default: the contract's 0.1.0)")
    build.add_argument("--force", action="store_true", help="rebuild even when the cache has the image")
    build.add_argument(
        "--bases",
        choices=BASE_SOURCES,
        default=None,
        help="debian: bases built here with debootstrap (default); registry: the Containerfiles' defaults",
    )
    bases = sub.add_parser("bases", help="build the Debian base images (python, node, postgres)")
    bases.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(RECIPES)} (default: all)")
    bases.add_argument("--builder", choices=BUILDER_CHOICES, default="auto")
    sub.add_parser("list", help="show base and app images in the cache")
    return parser


@exits_cleanly_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "build":
        built = build_images(
            args.apps, builder=args.builder, force=args.force, bases=args.bases, tag=args.tag or IMAGE_TAG
        )
        for image in built:
            state = "cached" if image.cached else f"built in {image.seconds:.0f} s"
            print(f"{image.app}\t{image.reference}\t{image.archive}\t{image.bytes / 1e6:.0f} MB\t{state}")
            if args.load:
                load_archive(args.load, image.archive, cluster_name=args.cluster_name)
    elif args.command == "bases":
        builder = detect_builder(args.builder)
        for name in args.names or list(RECIPES):
            base = ensure_base(recipe_named(name), builder)
            print(f"{name}\t{base.reference}")
    elif args.command == "list":
        paths = ImagePaths.default()
        for recipe in RECIPES.values():
            print(
                f"base {recipe.name}\t{recipe.reference()}\t{cached_rootfs(recipe, paths) or '(not built)'}"
            )
        for tar in sorted(paths.apps.glob("*.tar")):
            print(f"app\t{tar.name}\t{tar.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
