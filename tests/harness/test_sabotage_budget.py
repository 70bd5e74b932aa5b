"""The CI time guard of the extended sabotage matrix (harness.sabotage.ci_budget_shortfall)."""

from __future__ import annotations

import dataclasses

from harness.sabotage import (
    CHAOS_SABOTAGES,
    LOAD_SABOTAGES,
    SABOTAGES,
    SLOW_SABOTAGES,
    Sabotage,
    ci_budget_shortfall,
    extended_sabotages,
)


def measured(seconds: int) -> dict[str, Sabotage]:
    some = next(iter(CHAOS_SABOTAGES.values()))
    return {
        f"s{index}": dataclasses.replace(some, name=f"s{index}", live_seconds=seconds) for index in range(4)
    }


def test_no_deadline_means_no_guard() -> None:
    assert ci_budget_shortfall(None, 0.0, measured(180)) is None
    assert ci_budget_shortfall("", 0.0, measured(180)) is None


def test_runs_when_the_measured_times_fit_with_margin() -> None:
    # 4 x 180 s x 1.25 = 15 min, plus 2 min for what follows: 17 min fit in 18.
    assert ci_budget_shortfall(str(18 * 60), 0.0, measured(180)) is None


def test_skips_with_minutes_left_and_needed_when_they_do_not_fit() -> None:
    reason = ci_budget_shortfall(str(16 * 60), 0.0, measured(180))
    assert reason is not None
    assert reason.startswith("CI time budget — 14 min left, the extended sabotage matrix needs ~15")


def test_past_the_deadline_says_zero_left() -> None:
    reason = ci_budget_shortfall("100", 1000.0, measured(60))
    assert reason is not None and "— 0 min left" in reason


def test_extended_matrix_holds_only_sabotages_seen_failing_live() -> None:
    for name, sabotage in extended_sabotages().items():
        assert sabotage.live_seconds > 0
        assert name in {**SLOW_SABOTAGES, **CHAOS_SABOTAGES, **LOAD_SABOTAGES}


def test_extended_matrix_runs_cheapest_first_and_holds_the_slow_core_sabotages() -> None:
    seconds = [sabotage.live_seconds for sabotage in extended_sabotages().values()]
    assert seconds == sorted(seconds)
    assert set(SLOW_SABOTAGES) <= set(extended_sabotages())
    assert not set(SLOW_SABOTAGES) & set(SABOTAGES)


def test_one_sabotage_that_does_not_fit_is_named() -> None:
    one = dict(list(measured(180).items())[:1])
    reason = ci_budget_shortfall(str(3 * 60), 0.0, one)
    assert reason is not None and reason.startswith("CI time budget — 1 min left, sabotage s0 needs ~4")
