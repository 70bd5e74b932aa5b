"""Before deploying: make sure the cluster has what the spec needs (harness.prerequisites)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.errors import UserError
from harness.kube import Kube
from harness.prerequisites import Prerequisites, ensure_prerequisites
from harness.providers import Provider


def overlay_ingress_class(overlay: str) -> str:
    """The IngressClass the overlay's Ingress names (what the ingress controller must serve)."""
    from harness.render import render_overlay  # noqa: PLC0415 - builds kustomize on first use

    classes = {
        str(item.get("spec", {}).get("ingressClassName", ""))
        for item in render_overlay(overlay)
        if item["kind"] == "Ingress"
    }
    if len(classes) != 1 or "" in classes:
        raise UserError(
            f"overlay {overlay} must name exactly one ingressClassName, found {sorted(classes)}",
            where=f"manifests/overlays/{overlay}",
            fix="set spec.ingressClassName on the Ingress",
        )
    return classes.pop()


def prepare_cluster(provider: Provider, kubeconfig: Path, run_dir: Path) -> Prerequisites:
    """Check (and where allowed install) the prerequisites; write prerequisites.json to run_dir."""
    options = provider.prerequisite_options(overlay_ingress_class(provider.overlay))
    prerequisites = ensure_prerequisites(
        Kube.from_kubeconfig(kubeconfig), options, provider.load_archives, provider.image_reference
    )
    record = {
        "kubernetes_version": prerequisites.kubernetes_version,
        "seconds": prerequisites.seconds,
        "pieces": [{"piece": r.piece, "state": r.state, "detail": r.detail} for r in prerequisites.results],
    }
    (run_dir / "prerequisites.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    for result in prerequisites.results:
        print(f"  prerequisite {result.piece}: {result.state} ({result.detail})", file=sys.stderr)
    print(f"  ✓ cluster prerequisites ({prerequisites.seconds:.1f}s)", file=sys.stderr, flush=True)
    return prerequisites
