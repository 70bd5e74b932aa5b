"""Bad input gives one clear line (what, where, how to fix), never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import gotoolchain
from harness.errors import UserError
from harness.policy.__main__ import main as policy_main
from harness.render import MANIFESTS_DIR, ensure_kustomize, render_directory, render_overlay

DEPLOYMENT_WITH_UNKNOWN_FIELD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: example/web:1.0
          imagePullPolicy: IfNotPresent
          replicas: 3
"""


@pytest.fixture
def manifests_copy(tmp_path: Path) -> Path:
    tree = tmp_path / "manifests"
    shutil.copytree(MANIFESTS_DIR, tree, ignore=shutil.ignore_patterns("*.env", "*.crt", "*.key"))
    return tree


def one_line(error: UserError) -> str:
    message = str(error)
    assert "\n" not in message and "Traceback" not in message
    assert "(fix: " in message
    return message


def test_yaml_that_does_not_parse_names_file_and_line(manifests_copy: Path) -> None:
    broken = manifests_copy / "base" / "ingress.yaml"
    broken.write_text("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: [taskflow\n")
    with pytest.raises(UserError) as caught:
        render_overlay("kind", manifests_dir=manifests_copy)
    message = one_line(caught.value)
    assert f"{broken}:4:" in message and "YAML does not parse" in message


def test_kustomization_naming_a_missing_file_is_one_line(manifests_copy: Path) -> None:
    (manifests_copy / "base" / "postgres.yaml").unlink()
    with pytest.raises(UserError) as caught:
        render_overlay("local", manifests_dir=manifests_copy)
    message = one_line(caught.value)
    assert message.startswith(f"{manifests_copy}/overlays/local: kustomize build failed:")
    assert "base/postgres.yaml is listed in a kustomization but does not exist" in message
    assert "taskflow-render-" not in message


def test_missing_overlay_lists_the_real_ones() -> None:
    with pytest.raises(UserError) as caught:
        render_overlay("k3s")
    message = one_line(caught.value)
    assert "overlay 'k3s' does not exist" in message
    assert "use one of: kind, local, minikube" in message


def test_missing_kustomize_without_go_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(gotoolchain, "TOOLCHAIN_SHA256", {})  # no Go to download for this platform
    with pytest.raises(UserError) as caught:
        ensure_kustomize()
    message = one_line(caught.value)
    assert "no Go toolchain on PATH" in message and str(tmp_path / "cache" / "bin") in message


def test_failed_kustomize_build_reports_go_last_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_go = fake_bin / "go"
    fake_go.write_text(
        "#!/bin/sh\necho 'noise' >&2\necho 'go: module lookup disabled by GOPROXY=off' >&2\nexit 1\n"
    )
    fake_go.chmod(0o755)
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(fake_bin))
    with pytest.raises(UserError) as caught:
        ensure_kustomize()
    assert "failed: go: module lookup disabled by GOPROXY=off" in one_line(caught.value)


def test_directory_document_that_is_not_an_object(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- just\n- a list\n")
    with pytest.raises(UserError) as caught:
        render_directory(tmp_path)
    assert "is not a Kubernetes object" in one_line(caught.value)


def test_cli_unknown_field_is_one_violation_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "web.yaml").write_text(DEPLOYMENT_WITH_UNKNOWN_FIELD)
    assert policy_main(["--dir", str(tmp_path)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "K8S-SCHEMA," in line]
    assert lines == [
        "    - Deployment/demo/web: unknown field 'replicas' at spec.template.spec.containers[0] "
        "[K8S-SCHEMA, FR-001] (fix: correct the field as the Kubernetes 1.34 API reference spells it, "
        "or remove it)"
    ]


def test_cli_user_error_exits_2_with_one_line_and_no_traceback() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "harness.policy", "--overlay", "nope"],
        capture_output=True,
        text=True,
        check=False,
        cwd=MANIFESTS_DIR.parent,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert completed.stderr.startswith("error: ") and "overlay 'nope' does not exist" in completed.stderr


def test_cli_broken_yaml_in_dir_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text("kind: ConfigMap\n  data: x\n")
    with pytest.raises(SystemExit) as exit_info:
        policy_main(["--dir", str(tmp_path)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"{tmp_path / 'bad.yaml'}:2:" in error


def test_kustomization_dir_without_secret_inputs_says_how_to_make_them(manifests_copy: Path) -> None:
    with pytest.raises(UserError) as caught:
        render_directory(manifests_copy / "overlays" / "kind")
    message = one_line(caught.value)
    assert f"{manifests_copy}/base/secrets/taskflow-secrets.env is listed" in message
    assert "python -m harness.secrets" in message
