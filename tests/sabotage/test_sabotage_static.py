"""Every sabotage really breaks the contract it names: the static rules (ours or kube-score's gate)
catch it on the render."""

from __future__ import annotations

import copy

import pytest

from harness.errors import UserError
from harness.policy.engine import evaluate, violations
from harness.policy.peer import peer_review
from harness.render import render_overlay
from harness.sabotage import (
    CHAOS_SABOTAGES,
    LOAD_SABOTAGES,
    PENDING_SABOTAGES,
    SABOTAGES,
    SLOW_SABOTAGES,
    sabotage_named,
)

EVERY_SABOTAGE = {**SABOTAGES, **SLOW_SABOTAGES, **PENDING_SABOTAGES, **CHAOS_SABOTAGES, **LOAD_SABOTAGES}

Manifests = list[dict[str, object]]


@pytest.fixture(scope="module")
def rendered() -> Manifests:
    return render_overlay("local")


def test_the_unbroken_render_passes(rendered: Manifests) -> None:
    assert violations(evaluate(rendered)) == []
    assert peer_review(rendered).passed


@pytest.mark.parametrize("name", [name for name, sabotage in EVERY_SABOTAGE.items() if sabotage.static])
def test_sabotage_breaks_its_requirement(name: str, rendered: Manifests) -> None:
    sabotage = EVERY_SABOTAGE[name]
    broken = copy.deepcopy(rendered)
    sabotage.apply(broken)
    assert broken != rendered
    found = [*violations(evaluate(broken)), *peer_review(broken).blocking]
    assert sabotage.breaks in {violation.requirement for violation in found}, [str(v) for v in found]


@pytest.mark.parametrize("name", list(EVERY_SABOTAGE))
def test_sabotage_changes_the_render_and_names_its_check(name: str, rendered: Manifests) -> None:
    sabotage = EVERY_SABOTAGE[name]
    broken = copy.deepcopy(rendered)
    sabotage.apply(broken)
    assert broken != rendered
    assert sabotage.check, f"{name} must name the check that has to fail"


def test_unknown_sabotage_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match="use one of: wrong-mcp-url"):
        sabotage_named("drop-everything")
