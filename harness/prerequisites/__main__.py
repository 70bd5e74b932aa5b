"""CLI: python -m harness.prerequisites images [--load PROVIDER]

Builds the images of the add-ons the harness can install (from the Go module proxy) and loads
them into a cluster with that provider's own loader, for `--images-present` runs.
"""

from __future__ import annotations

import argparse

from harness.errors import exits_cleanly_on_user_error

from .images import ADDON_IMAGES, build_addon_image, buildable


@exits_cleanly_on_user_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.prerequisites", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    images = sub.add_parser("images", help="build the add-on images (and load them)")
    images.add_argument("--load", choices=("local", "kind", "k3d", "minikube"))
    args = parser.parse_args(argv)
    from harness.images import load_archive  # noqa: PLC0415

    for name in buildable():
        archive = build_addon_image(name)
        print(f"{ADDON_IMAGES[name].local}: {archive}")
        if args.load:
            load_archive(args.load, archive)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
