"""CLI of the prerequisites step.

python -m harness.prerequisites images [--load PROVIDER]
    build the add-on images (Go module proxy) and load them with that provider's own loader
python -m harness.prerequisites check --kubeconfig PATH [--overlay NAME] [--install]
        [--images-present] [--ingress-address ADDR] [--remove-after]
    the step a conformance run takes before deploying, on its own: what is found, what is
    installed (and, with --remove-after, removed again), how long it took
python -m harness.prerequisites remove-leftovers --kubeconfig PATH
    remove what an earlier run installed and could not take back (killed before its teardown)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness.errors import exits_cleanly_on_user_error

from .images import ADDON_IMAGES, build_addon_image, buildable


@exits_cleanly_on_user_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.prerequisites", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    images = sub.add_parser("images", help="build the add-on images (and load them)")
    images.add_argument("--load", choices=("local", "kind", "k3d", "minikube"))
    check = sub.add_parser("check", help="check (and install) what a cluster lacks")
    check.add_argument("--kubeconfig", type=Path, required=True)
    check.add_argument("--overlay", default="kind")
    check.add_argument("--install", action="store_true")
    check.add_argument("--images-present", action="store_true")
    check.add_argument("--ingress-address", default="127.0.0.1")
    check.add_argument("--remove-after", action="store_true")
    remove = sub.add_parser("remove-leftovers", help="remove what a killed run installed")
    remove.add_argument("--kubeconfig", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "remove-leftovers":
        return _remove_leftovers(args.kubeconfig)
    if args.command == "images":
        from harness.images import load_archive  # noqa: PLC0415

        for name in buildable():
            archive = build_addon_image(name)
            print(f"{ADDON_IMAGES[name].local}: {archive}")
            if args.load:
                load_archive(args.load, archive)
        return 0
    return _check(args)


def _check(args: argparse.Namespace) -> int:
    from harness.kube import Kube  # noqa: PLC0415
    from harness.prepare import overlay_ingress_class  # noqa: PLC0415
    from harness.providers import make_provider  # noqa: PLC0415

    from .install import ensure_prerequisites  # noqa: PLC0415

    provider = make_provider(
        "external",
        kubeconfig=args.kubeconfig,
        ingress_address=args.ingress_address,
        overlay=args.overlay,
        install_prerequisites=args.install,
        images_present=args.images_present,
    )
    options = provider.prerequisite_options(overlay_ingress_class(provider.overlay))
    kube = Kube.from_kubeconfig(args.kubeconfig)
    found = ensure_prerequisites(kube, options, provider.load_archives, provider.image_reference)
    print(f"kubernetes {found.kubernetes_version}; step took {found.seconds:.1f} s")
    for result in found.results:
        print(f"  {result.piece}: {result.state} ({result.detail})")
    if args.remove_after:
        started = time.monotonic()
        found.uninstall()
        print(f"removed again in {time.monotonic() - started:.1f} s")
    return 0


def _remove_leftovers(kubeconfig: Path) -> int:
    from harness.kube import Kube  # noqa: PLC0415

    from .install import remove_leftovers  # noqa: PLC0415

    removed = remove_leftovers(Kube.from_kubeconfig(kubeconfig))
    print(f"prerequisites left by an earlier run: {', '.join(removed) if removed else 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
