"""`python -m harness.policy [--overlay NAME | --dir PATH] [--kube-score]`: a table of rules and verdicts.

`--kube-score` adds the peer linter's findings after each table (harness/policy/peer.py).

Exit 0 when every rule passes, 1 on violations, 2 on a user error (bad input).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.errors import exits_cleanly_on_user_error
from harness.policy.engine import RuleResult, evaluate
from harness.policy.peer import format_verdict, peer_review
from harness.policy.schema import KUBERNETES_VERSION
from harness.render import OVERLAYS, render_directory, render_overlay

VIOLATIONS_EXIT_CODE = 1


def format_table(title: str, results: Sequence[RuleResult]) -> str:
    width = max(len(result.rule.id) for result in results)
    lines = [title, f"  {'RULE':<{width}}  {'FR':<6}  {'VERDICT':<7}  CONTRACT"]
    for result in results:
        verdict = "pass" if result.passed else f"FAIL {len(result.violations)}"
        lines.append(
            f"  {result.rule.id:<{width}}  {result.rule.requirement:<6}  {verdict:<7}  {result.rule.contract}"
        )
    failures = [violation for result in results for violation in result.violations]
    if failures:
        lines.append("  violations:")
        lines.extend(f"    - {violation}" for violation in failures)
    passed = sum(result.passed for result in results)
    lines.append(f"  {passed} passed, {len(results) - passed} failed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.policy",
        description=f"Check rendered manifests against the Taskflow contracts (k8s {KUBERNETES_VERSION}).",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--overlay", help=f"render manifests/overlays/NAME ({', '.join(OVERLAYS)}); default: all"
    )
    target.add_argument("--dir", type=Path, help="a kustomization directory or a directory of YAML files")
    parser.add_argument(
        "--kube-score",
        action="store_true",
        help="also run kube-score (built from the Go module proxy) with manifests/kube-score-waivers.yaml",
    )
    arguments = parser.parse_args(argv)
    return run(arguments.overlay, arguments.dir, kube_score=arguments.kube_score)


@exits_cleanly_on_user_error
def run(overlay: str | None, directory: Path | None, *, kube_score: bool = False) -> int:
    if directory is not None:
        targets = [(str(directory), render_directory(directory))]
    else:
        targets = [
            (f"overlays/{name}", render_overlay(name)) for name in ([overlay] if overlay else OVERLAYS)
        ]
    failed = False
    for title, objects in targets:
        results = evaluate(objects)
        print(
            format_table(f"{title} ({len(objects)} objects, Kubernetes {KUBERNETES_VERSION} schema)", results)
        )
        failed = failed or not all(result.passed for result in results)
        if kube_score:
            verdict = peer_review(objects)
            print(format_verdict(f"{title} peer review", verdict))
            failed = failed or not verdict.passed
    return VIOLATIONS_EXIT_CODE if failed else 0


if __name__ == "__main__":
    sys.exit(main())
