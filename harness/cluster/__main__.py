"""CLI: python -m harness.cluster up|down|status|kubeconfig|load-image PATH|build|pin-releases."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import releases
from .build import ensure_all
from .context import Context
from .errors import ClusterError
from .lifecycle import down, require_up, status, up
from .paths import Layout


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.cluster", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_p = sub.add_parser("up", help="build what is missing, start everything, wait until Ready")
    up_p.add_argument("--no-addons", action="store_true", help="start only the core components")
    up_p.add_argument(
        "--bare",
        action="store_true",
        help="core and DNS only: no ingress controller, metrics API or default StorageClass "
        "(a plain `up` restores them)",
    )
    sub.add_parser("down", help="stop everything and remove what `up` created")
    sub.add_parser("status", help="what runs (exit 1 when not healthy)")
    sub.add_parser("kubeconfig", help="print the admin kubeconfig path")
    load = sub.add_parser("load-image", help="import a docker-archive/OCI tar into containerd (k8s.io)")
    load.add_argument("path", type=Path)
    sub.add_parser(
        "build",
        help="build every missing cluster binary into the cache and start nothing "
        "(a cold cache's build, on its own; per-component wall and CPU time in the cache's build-times.json)",
    )
    sub.add_parser(
        "pin-releases",
        help="fill cluster/release-checksums.json from upstream's checksum files (needs dl.k8s.io "
        "and github.com; a pin that disagrees with upstream is kept and reported)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    layout = Layout.default()
    try:
        if args.command == "up":
            print(up(layout, with_addons=not args.no_addons, bare=args.bare))
            print(f"kubectl: {layout.kubectl_link}", file=sys.stderr)
        elif args.command == "down":
            problems = down(layout)
            for problem in problems:
                print(f"problem: {problem}", file=sys.stderr)
            return 1 if problems else 0
        elif args.command == "status":
            healthy, report = status(layout)
            print(report)
            return 0 if healthy else 1
        elif args.command == "kubeconfig":
            if not layout.admin_kubeconfig.exists():
                raise ClusterError("no cluster has been created", "run `python -m harness.cluster up`")
            print(layout.admin_kubeconfig)
            print(f"kubectl: {layout.kubectl_link}", file=sys.stderr)
        elif args.command == "load-image":
            require_up(layout)
            Context(layout).load_image(args.path.resolve())
        elif args.command == "build":
            for name, out_dir in ensure_all(layout).items():
                print(f"{name}: {out_dir}")
        elif args.command == "pin-releases":
            problems = releases.fill_pins()
            for problem in problems:
                print(f"problem: {problem}", file=sys.stderr)
            return 1 if problems else 0
    except ClusterError as error:
        print(error.render(), file=sys.stderr)
        return 2
    except OSError as error:
        # the host refused something (permissions, a busy device): say what, without a traceback
        print(f"error: {error}", file=sys.stderr)
        print("fix: run as root on a Linux host; `status` shows what is running", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run `up` again to continue or `down` to clean up", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
