"""User problems end in one clear message that says how to fix them."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

from harness.cluster import context, lifecycle
from harness.cluster.errors import ClusterError
from harness.errors import UserError
from harness.images import host
from harness.images.__main__ import main
from harness.images.host import BASE_TOOLS, Builder, detect_builder, ensure_tools, require_root
from harness.images.load import load_archive
from harness.images.run import run_logged


def test_missing_tools_as_non_root_names_the_apt_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError) as error:
        ensure_tools({**BASE_TOOLS, "buildah": "buildah"}, tmp_path / "log")
    assert "(fix: run `apt-get install -y --no-install-recommends buildah debootstrap` as root)" in str(
        error.value
    )


def test_present_tools_install_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setattr(host, "run_logged", lambda *a, **k: pytest.fail("nothing to install"))
    ensure_tools(BASE_TOOLS, tmp_path / "log")


def test_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match=r"building the python base image needs root .*fix: run it as root"):
        require_root("building the python base image")


def test_builder_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(host.BUILDER_ENV, raising=False)
    monkeypatch.setattr(host, "docker_daemon_answers", lambda: False)
    monkeypatch.setattr(host, "podman_works", lambda: False)
    assert detect_builder() is Builder.BUILDAH
    monkeypatch.setattr(host, "podman_works", lambda: True)
    assert detect_builder() is Builder.PODMAN
    monkeypatch.setattr(host, "docker_daemon_answers", lambda: True)
    assert detect_builder() is Builder.DOCKER
    assert detect_builder("buildah") is Builder.BUILDAH
    monkeypatch.setenv(host.BUILDER_ENV, "buildah")
    assert detect_builder() is Builder.BUILDAH
    with pytest.raises(UserError, match="unknown image builder 'kaniko'"):
        detect_builder("kaniko")


def test_docker_client_without_daemon_is_not_a_builder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_docker = tmp_path / "docker"
    fake_docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake_docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not host.docker_daemon_answers()


def test_failed_command_shows_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    script = "import sys\nfor i in range(50): print(f'step {i}')\nsys.exit(3)"
    with pytest.raises(UserError) as error:
        run_logged([sys.executable, "-c", script], what="building x", log=log, fix="fix the Containerfile")
    message = str(error.value)
    assert message.startswith("building x failed (exit 3); last lines of")
    assert "step 49" in message and "step 30" in message and "step 29" not in message
    assert message.endswith("(fix: fix the Containerfile)")


def test_missing_program_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no-such-builder is not installed"):
        run_logged(["no-such-builder", "bud"], what="building x", log=tmp_path / "log")


def test_loading_needs_an_archive_and_a_known_provider(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_archive("kind", tmp_path / "missing.tar")
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"")
    with pytest.raises(UserError, match="cannot load images into provider 'k3s'"):
        load_archive("k3s", archive)


def test_kind_missing_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"")
    with pytest.raises(UserError, match="kind is not on PATH"):
        load_archive("kind", archive)


def test_cli_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "web"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown app web") and err.count("\n") == 1


def test_local_load_without_a_running_cluster_says_how_to_start_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def not_up(layout: object) -> None:
        raise ClusterError("the cluster is not running", "run `python -m harness.cluster up` first")

    monkeypatch.setattr(lifecycle, "require_up", not_up)
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"")
    with pytest.raises(UserError) as error:
        load_archive("local", archive)
    assert str(error.value) == "the cluster is not running (fix: run `python -m harness.cluster up` first)"


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("kind", "load image-archive {archive} --name taskflow"),
        ("k3d", "image import {archive} --cluster taskflow"),
        ("minikube", "image load {archive} --profile taskflow"),
    ],
)
def test_provider_tools_get_the_archive_and_the_cluster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: str, expected: str
) -> None:
    calls = tmp_path / "calls"
    tool = tmp_path / "bin" / provider
    tool.parent.mkdir()
    tool.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tool.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"")
    load_archive(provider, archive, cluster_name="taskflow")
    assert calls.read_text().strip() == expected.format(archive=archive)


def docker_archive(path: Path, reference: str) -> Path:
    with tarfile.open(path, "w") as tar:
        data = json.dumps([{"Config": "c.json", "RepoTags": [reference], "Layers": []}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_local_load_skips_an_image_containerd_already_holds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    digest = tmp_path / "digest"
    digest.write_text("sha256:aaa")
    ctr = tmp_path / "bin" / "ctr"
    ctr.parent.mkdir()
    ctr.write_text(
        "#!/bin/sh\necho 'REF TYPE DIGEST SIZE'\n"
        f'echo "localhost/taskflow/backend:0.1.0 application/json $(cat {digest}) 1MiB"\n'
    )
    ctr.chmod(0o755)
    monkeypatch.setenv("PATH", f"{ctr.parent}:{os.environ['PATH']}")
    monkeypatch.setattr(lifecycle, "require_up", lambda layout: None)
    imported: list[Path] = []
    monkeypatch.setattr(context.Context, "load_image", lambda self, tar: imported.append(tar))
    archive = docker_archive(tmp_path / "backend-1.tar", "localhost/taskflow/backend:0.1.0")

    load_archive("local", archive)
    load_archive("local", archive)
    assert imported == [archive]  # the second load found the same digest
    digest.write_text("sha256:bbb")  # someone replaced the image under that name
    load_archive("local", archive)
    assert imported == [archive, archive]
