"""Rendered overlays, built once per session (the first render may build kustomize)."""

from __future__ import annotations

import copy

import pytest

from harness.policy.objects import Manifest
from harness.render import OVERLAYS, render_overlay


@pytest.fixture(scope="session")
def rendered_overlays() -> dict[str, list[Manifest]]:
    return {overlay: render_overlay(overlay) for overlay in OVERLAYS}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def objects(rendered_overlays: dict[str, list[Manifest]], overlay: str) -> list[Manifest]:
    """A private copy of one overlay's objects, free to mutate."""
    return copy.deepcopy(rendered_overlays[overlay])
