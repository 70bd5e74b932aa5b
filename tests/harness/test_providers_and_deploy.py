"""Provider selection and the per-run changes to rendered manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import providers
from harness.deploy import image_name, redacted, retarget_namespace
from harness.errors import UserError


def test_unknown_provider_says_which_exist() -> None:
    with pytest.raises(UserError, match=r"unknown provider 'docker'.*fix: use one of: auto, local"):
        providers.make_provider("docker")


def test_external_needs_explicit_kubeconfig() -> None:
    with pytest.raises(UserError, match="never uses your current context"):
        providers.make_provider("external")


def test_kubeconfig_only_with_external(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--kubeconfig only goes with --provider external"):
        providers.make_provider("local", kubeconfig=tmp_path / "config")


def test_external_with_missing_kubeconfig_fails_clearly(tmp_path: Path) -> None:
    provider = providers.make_provider("external", kubeconfig=tmp_path / "absent")
    with pytest.raises(UserError, match="kubeconfig not found"):
        provider.ensure_up()


def test_auto_prefers_kind_with_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(providers, "docker_engine_works", lambda: True)
    assert providers.choose_provider_name("auto") == "kind"


def test_auto_falls_back_to_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers, "docker_engine_works", lambda: False)
    monkeypatch.setattr(providers, "local_cluster_can_run", lambda: None)
    assert providers.choose_provider_name("auto") == "local"


def test_auto_without_any_provider_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers, "docker_engine_works", lambda: False)
    monkeypatch.setattr(providers, "local_cluster_can_run", lambda: "the embedded cluster needs root")
    with pytest.raises(UserError, match=r"needs root.*--provider external"):
        providers.choose_provider_name("auto")


def test_retarget_moves_objects_and_renames_namespace() -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "taskflow"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend", "namespace": "taskflow"}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "traefik"}},
    ]
    moved = retarget_namespace(manifests, "taskflow-run1")
    assert moved[0]["metadata"] == {
        "name": "taskflow-run1",
        "labels": {"kubernetes.io/metadata.name": "taskflow-run1"},
    }
    assert moved[1]["metadata"]["namespace"] == "taskflow-run1"
    assert "namespace" not in moved[2]["metadata"]
    assert manifests[1]["metadata"]["namespace"] == "taskflow"


def test_image_name_drops_only_the_tag() -> None:
    assert image_name("localhost/taskflow/backend:0.1.0") == "localhost/taskflow/backend"
    assert image_name("registry:5000/backend") == "registry:5000/backend"


def test_redacted_hides_secret_values() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"JWT_SECRET": "c2VjcmV0"}}
    assert redacted([secret])[0]["data"] == {"JWT_SECRET": "<8 chars>"}
    assert secret["data"]["JWT_SECRET"] == "c2VjcmV0"
