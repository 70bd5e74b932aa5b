"""Fixtures for the embedded-cluster tests.

Tests that take the `cluster` fixture need the real cluster (root, a built cache): they get the
`cluster` marker, so the fast suite (`-m "not cluster"`) skips them. The fixture brings the
cluster up through the same code as `python -m harness.cluster up`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cluster import lifecycle, testimage, users
from harness.cluster.component import running
from harness.cluster.paths import Layout

from .kube import Kube

LAST_FILES = ("test_host_snapshot.py",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cluster)
    # `down` tears the cluster away: run it after every other cluster test
    items.sort(key=lambda it: Path(str(it.fspath)).name in LAST_FILES)


@pytest.fixture(scope="session")
def layout() -> Layout:
    return Layout.default()


@pytest.fixture(scope="session")
def cluster(layout: Layout) -> Iterator[Kube]:
    if os.geteuid() != 0:
        pytest.skip("the embedded cluster needs root")
    was_running = running(layout, "kube-apiserver") is not None
    with users.using(layout, "tests/cluster"):  # another run's `down` waits for us
        kubeconfig = lifecycle.up(layout)
        kube = Kube(kubectl=layout.kubectl_link, kubeconfig=kubeconfig, layout=layout)
        kube.load_image(testimage.image_tar(layout))
        yield kube
    # leave the host as we found it
    is_running = running(layout, "kube-apiserver") is not None
    if was_running and not is_running:
        lifecycle.up(layout)  # test_down took it away
    elif not was_running and is_running:
        lifecycle.down(layout)


@pytest.fixture(scope="session")
def test_image() -> str:
    return testimage.IMAGE


@pytest.fixture
def namespace(cluster: Kube) -> Iterator[str]:
    name = f"cluster-test-{uuid.uuid4().hex[:8]}"
    cluster.run("create", "namespace", name)
    cluster.wait_for(
        f"service account default in {name}",
        lambda: None if cluster.run("-n", name, "get", "sa", "default", check=False) else "missing",
        timeout=30,
    )
    yield name
    cluster.run("delete", "namespace", name, "--wait=false", check=False)
