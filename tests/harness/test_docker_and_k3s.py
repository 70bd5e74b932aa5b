"""The project's own Docker engine and the k3s provider: what they run and what they refuse.

Starting dockerd itself happens in tests/docker (marker `cluster`: inside the live lock only).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import k3s_provider, providers
from harness.docker import hostnet
from harness.docker.engine import EngineLayout
from harness.errors import UserError


def test_dockerd_gets_paths_of_its_own() -> None:
    layout = EngineLayout(
        data_root=Path("/c/docker"),
        exec_root=Path("/run/t/exec"),
        socket=Path("/run/t/docker.sock"),
        pidfile=Path("/run/t/dockerd.pid"),
        log=Path("/c/docker/dockerd.log"),
    )
    assert layout.argv() == [
        "dockerd",
        "--data-root=/c/docker",
        "--exec-root=/run/t/exec",
        "--host=unix:///run/t/docker.sock",
        "--pidfile=/run/t/dockerd.pid",
        "--storage-driver=overlay2",
        "--exec-opt=native.cgroupdriver=cgroupfs",
    ]
    assert EngineLayout.default().socket != Path("/var/run/docker.sock")


@pytest.mark.parametrize(
    ("line", "ours"),
    [
        ("-N DOCKER-USER", True),
        ("-A FORWARD -j DOCKER-FORWARD", True),
        ("-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE", True),
        ("-A FORWARD -m comment --comment kubernetes forwarding rules -j KUBE-FORWARD", False),
        ("-N TASKFLOW-GUARD", False),
    ],
)
def test_only_dockers_rules_are_reverted(line: str, ours: bool) -> None:
    assert hostnet.dockers(line) is ours


def test_k3s_needs_a_docker_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(k3s_provider, "docker_host", lambda: None)
    provider = providers.make_provider("k3s")
    with pytest.raises(UserError, match=r"^--provider k3s: the k3s provider needs a Docker engine"):
        provider.ensure_up()


def test_k3s_labels_its_node_for_the_ingress_and_leaves_traefik_out() -> None:
    assert k3s_provider.k3s_command("127.0.0.1") == (
        "server --disable traefik --tls-san=127.0.0.1 --node-label=ingress-ready=true"
    )


def test_registry_references_drop_the_local_prefix_and_pushes_are_read_back() -> None:
    from harness import registry  # noqa: PLC0415

    assert registry.registry_reference("reg.lab:5000/", "localhost/taskflow/backend:0.1.0") == (
        "reg.lab:5000/taskflow/backend:0.1.0"
    )
    assert registry.push_commands(Path("/c/b.tar"), "reg.lab:5000/taskflow/backend:0.1.0") == [
        [
            "skopeo",
            "copy",
            "--quiet",
            "docker-archive:/c/b.tar",
            "docker://reg.lab:5000/taskflow/backend:0.1.0",
        ],
        ["skopeo", "inspect", "--raw", "docker://reg.lab:5000/taskflow/backend:0.1.0"],
    ]


def test_external_with_a_registry_deploys_from_it_and_builds_addon_images_here() -> None:
    provider = providers.make_provider("external", kubeconfig=Path("k"), image_registry="reg.lab:5000")
    assert (
        provider.image_reference("localhost/taskflow/mcp-server:0.1.0")
        == "reg.lab:5000/taskflow/mcp-server:0.1.0"
    )
    assert provider.prerequisite_options("traefik").images == "local"
    plain = providers.make_provider("external", kubeconfig=Path("k"))
    assert (
        plain.image_reference("localhost/taskflow/mcp-server:0.1.0") == "localhost/taskflow/mcp-server:0.1.0"
    )


def test_an_image_the_registry_does_not_have_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from harness import registry  # noqa: PLC0415

    monkeypatch.setattr(registry.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"^skopeo is not installed .*--images-present\)$"):
        registry.push(tmp_path / "a.tar", "reg.lab:5000/taskflow/a:1")
