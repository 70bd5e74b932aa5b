"""Fixtures every scenario shares: the deployed namespace, a probe pod in it, a signed-up user."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from harness.deploy import Deployment
from harness.probe import Probe
from harness.taskflow_api import ApiUser, sign_up

BACKEND_IMAGE = "localhost/taskflow/backend"


@pytest.fixture(scope="session")
def deployment(taskflow: Deployment) -> Deployment:
    return taskflow


@pytest.fixture(scope="session")
def probe(deployment: Deployment) -> Generator[Probe, None, None]:
    """A pod with Python in the namespace under test (the backend image, command replaced)."""
    in_cluster = Probe(deployment.kube, deployment.namespace)
    in_cluster.start(deployment.images[BACKEND_IMAGE])
    yield in_cluster


@pytest.fixture(scope="session")
def api_user(probe: Probe) -> ApiUser:
    return sign_up(probe)
