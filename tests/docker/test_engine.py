"""The project's Docker engine for real (root; inside the live lock, like the cluster tests):
it comes up on its own socket, testcontainers runs our postgres image on it for the app tests,
and stopping it leaves iptables, forwarding and links as they were."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.docker import DockerEngine, hostnet

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(os.geteuid() != 0, reason="dockerd needs root"),
    pytest.mark.skipif(
        not Path("/usr/sbin/dockerd").exists(), reason="no dockerd: python -m harness.hostpackages docker"
    ),
]
REPO = Path(__file__).resolve().parents[2]


def forward_policy() -> str:
    return next(line for line in hostnet.rules("filter") if line.startswith("-P FORWARD"))


def test_engine_runs_and_leaves_the_host_as_it_found_it() -> None:
    before = hostnet.HostNetwork.record()
    policy = forward_policy()
    with DockerEngine() as engine:
        info = subprocess.run(
            ["docker", "-H", engine.host, "info", "--format", "{{.Driver}}"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert info.stdout.strip() == "overlay2"
        assert hostnet.link_exists("docker0")
        if hostnet.link_exists("tfbr0"):
            # coexisting with the embedded cluster: its bridged pod traffic passes DOCKER-USER
            assert "-A DOCKER-USER -i tfbr0 -o tfbr0 -j ACCEPT" in hostnet.rules("filter")
    assert engine.problems == []
    assert before.changes() == []
    assert forward_policy() == policy
    assert not [line for line in hostnet.rules("filter") + hostnet.rules("nat") if "DOCKER" in line]
    assert hostnet.link_exists("docker0") is before.bridge_existed


def test_app_tests_get_postgres_from_testcontainers_on_the_engine() -> None:
    with DockerEngine() as engine:
        env = {**os.environ, "DOCKER_HOST": engine.host}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/apps/test_auth.py", "-x"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        containers = subprocess.run(
            ["docker", "-H", engine.host, "ps", "-a", "--format", "{{.Image}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    # the `with` in the fixture removed its container again
    assert "postgres" not in containers


def test_k3s_provider_on_this_host() -> None:
    pytest.skip(
        "k3s through testcontainers needs rancher/k3s from Docker Hub, which this host may not reach"
        " (only PyPI, npm, Debian, the Go module proxy, crates and Maven); the provider is covered"
        " on paper by tests/harness/test_docker_and_k3s.py"
    )
