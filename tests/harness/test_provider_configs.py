"""kind, k3d and minikube: the exact configs and commands the harness gives each tool.

These tools do not run on this host's CI (no Docker engine there by default), so this is where
their set-up is pinned down; README lists them as verified only on paper.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness import provider_configs, providers
from harness.errors import UserError


def test_kind_maps_ingress_ports_to_loopback_and_labels_the_node() -> None:
    config = provider_configs.kind_config("taskflow")
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4" and config["name"] == "taskflow"
    (node,) = config["nodes"]
    assert node["extraPortMappings"] == [
        {"containerPort": 80, "hostPort": 80, "listenAddress": "127.0.0.1", "protocol": "TCP"},
        {"containerPort": 443, "hostPort": 443, "listenAddress": "127.0.0.1", "protocol": "TCP"},
    ]
    patch = yaml.safe_load(node["kubeadmConfigPatches"][0])
    assert patch["nodeRegistration"]["kubeletExtraArgs"]["node-labels"] == "ingress-ready=true"
    assert "image" not in node
    assert provider_configs.kind_config("t", node_image="localhost/kind-node:v1.34.4")["nodes"][0][
        "image"
    ] == ("localhost/kind-node:v1.34.4")


def test_k3d_maps_ports_on_its_load_balancer_and_leaves_the_ingress_to_the_harness() -> None:
    config = provider_configs.k3d_config("taskflow")
    assert config["apiVersion"] == "k3d.io/v1alpha5" and config["metadata"]["name"] == "taskflow"
    assert {"port": "127.0.0.1:443:443", "nodeFilters": ["loadbalancer"]} in config["ports"]
    assert {"arg": "--disable=traefik", "nodeFilters": ["server:*"]} in config["options"]["k3s"]["extraArgs"]
    assert {"label": "ingress-ready=true", "nodeFilters": ["server:*"]} in config["options"]["k3s"][
        "nodeLabels"
    ]


def test_minikube_enables_its_own_ingress_and_metrics_server() -> None:
    assert provider_configs.minikube_addon_commands("taskflow") == [
        ["minikube", "addons", "enable", "ingress", "-p", "taskflow"],
        ["minikube", "addons", "enable", "metrics-server", "-p", "taskflow"],
    ]


def test_written_config_is_what_the_tool_reads(tmp_path: Path) -> None:
    path = provider_configs.write_config(provider_configs.kind_config("taskflow"), tmp_path)
    assert path.name == "cluster-taskflow.yaml"
    assert yaml.safe_load(path.read_text()) == provider_configs.kind_config("taskflow")


@pytest.mark.parametrize("tool", ["kind", "k3d", "minikube"])
def test_missing_tool_is_one_line_with_the_fix(tool: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers.shutil, "which", lambda name: None)
    provider = providers.make_provider(tool)
    with pytest.raises(
        UserError, match=rf"^--provider {tool}: {tool} is not on PATH \(fix: install {tool}"
    ) as raised:
        provider.ensure_up()
    assert len(str(raised.value).splitlines()) == 1


def test_minikube_address_comes_from_minikube_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    class Manager:
        cluster_name = "taskflow"

    class Done:
        stdout = "192.168.49.2\n"

    def run(argv: list[str], **_: object) -> Done:
        calls.append(argv)
        return Done()

    provider = providers.PytestKubernetesProvider(name="minikube", overlay="minikube")
    provider._manager = Manager()
    monkeypatch.setattr(providers.subprocess, "run", run)
    assert provider.ingress() == providers.IngressEndpoint("192.168.49.2", 443)
    assert calls == [["minikube", "ip", "-p", "taskflow"]]


def test_run_with_a_missing_tool_stops_before_anything_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(pytester.path / "no-tools"))
    pytester.makeconftest('pytest_plugins = ["harness.plugin"]')
    pytester.makepyfile(test_never="def test_never():\n    raise AssertionError('a test ran')\n")
    result = pytester.runpytest_subprocess("--provider=kind", f"--run-dir={pytester.path / 'run'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        f"ERROR: --provider kind: kind is not on PATH (fix: {providers.INSTALL_HINTS['kind']})"
    ]
    assert not (pytester.path / "run").exists()


def test_kind_without_a_docker_engine_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(providers, "docker_engine_works", lambda: False)
    problem = providers.missing_tool("kind")
    assert problem is not None
    assert str(problem).startswith("--provider kind: kind runs its nodes in Docker, and no Docker engine")
    assert providers.missing_tool("minikube") is None  # minikube brings its own driver
    assert providers.missing_tool("local") is None


def test_kind_install_hint_names_the_version_the_nightly_installs() -> None:
    nightly = (Path(__file__).parents[2] / ".github" / "workflows" / "nightly.yml").read_text()
    assert f"go install sigs.k8s.io/kind@{providers.KIND_VERSION}" in nightly
    assert f"sigs.k8s.io/kind@{providers.KIND_VERSION}" in providers.INSTALL_HINTS["kind"]
