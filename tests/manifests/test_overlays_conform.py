"""Every overlay renders, validates against the pinned schema, and passes every rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.policy import ALL_RULES, evaluate, violations
from harness.policy.contracts import APPS
from harness.policy.objects import Manifest, Manifests, name_of, namespace_of
from harness.render import MANIFESTS_DIR, SECRETS_SUBDIR, render_overlay
from harness.secrets import generate_secrets


def test_overlay_passes_every_rule(objects: list[Manifest]) -> None:
    found = violations(evaluate(objects))
    assert found == [], "\n".join(str(v) for v in found)


def test_overlay_renders_every_contract_object(objects: list[Manifest]) -> None:
    manifests = Manifests(objects)
    for app in APPS:
        assert manifests.get(app.kind, app.name) is not None
        assert manifests.get("Service", app.name) is not None
    for kind, name in [
        ("Namespace", "taskflow"),
        ("ConfigMap", "taskflow-config"),
        ("Secret", "taskflow-secrets"),
        ("Secret", "taskflow-tls"),
        ("Ingress", "taskflow"),
        ("HorizontalPodAutoscaler", "backend"),
        ("NetworkPolicy", "default-deny-all"),
    ]:
        assert manifests.get(kind, name) is not None, f"{kind}/{name}"
    assert {namespace_of(obj) for obj in objects if obj["kind"] != "Namespace"} == {"taskflow"}


def test_rule_ids_are_unique_and_each_serves_a_requirement() -> None:
    ids = [rule.id for rule in ALL_RULES]
    assert len(ids) == len(set(ids))
    valid = {f"FR-{number:03d}" for number in range(1, 11)}
    assert {rule.requirement for rule in ALL_RULES} <= valid


def test_overlays_differ_only_where_the_cluster_differs(rendered_overlays: dict[str, list[Manifest]]) -> None:
    def without_secrets(objects: list[Manifest]) -> dict[tuple[str, str], Manifest]:
        return {(o["kind"], name_of(o)): o for o in objects if o["kind"] != "Secret"}

    kind, minikube, local = (
        without_secrets(rendered_overlays[name]) for name in ("kind", "minikube", "local")
    )
    assert kind == minikube
    changed = {key for key in kind if kind[key] != local[key]}
    assert changed == {
        ("Ingress", "taskflow"),
        ("NetworkPolicy", "allow-ingress-controller"),
        ("NetworkPolicy", "allow-dns-egress"),
        ("HorizontalPodAutoscaler", "backend"),  # 30 s scale-down window: FR-005 watches it scale back
    }


def test_each_render_gets_fresh_secrets_unless_given(tmp_path: Path) -> None:
    def secret_data(objects: list[Manifest]) -> object:
        return next(o["data"] for o in objects if o["kind"] == "Secret" and name_of(o) == "taskflow-secrets")

    tree = tmp_path / "manifests"
    shutil.copytree(MANIFESTS_DIR, tree, ignore=shutil.ignore_patterns("*.env", "*.crt", "*.key"))
    first, second = render_overlay("kind", manifests_dir=tree), render_overlay("kind", manifests_dir=tree)
    assert secret_data(first) != secret_data(second)
    assert sorted(p.name for p in (tree / SECRETS_SUBDIR).iterdir()) == [".gitignore"], (
        "render wrote into the tree"
    )
    given = generate_secrets()
    assert secret_data(render_overlay("kind", manifests_dir=tree, run_secrets=given)) == secret_data(
        render_overlay("kind", manifests_dir=tree, run_secrets=given)
    )


def test_per_run_namespace_and_image_overrides_keep_every_rule() -> None:
    objects = render_overlay(
        "local",
        namespace="taskflow-run-7",
        images={"localhost/taskflow/backend": "localhost/taskflow/backend:run-7"},
    )
    assert {namespace_of(o) or name_of(o) for o in objects} == {"taskflow-run-7"}
    backend = Manifests(objects).app_container("Deployment", "backend")
    assert backend is not None and backend.spec["image"] == "localhost/taskflow/backend:run-7"
    found = violations(evaluate(objects))
    assert found == [], "\n".join(str(v) for v in found)


@pytest.mark.parametrize("reference", ["localhost/taskflow/backend", "registry:5000/backend"])
def test_image_override_without_a_tag_is_refused(reference: str) -> None:
    with pytest.raises(UserError, match="has no tag"):
        render_overlay("kind", images={"localhost/taskflow/backend": reference})
