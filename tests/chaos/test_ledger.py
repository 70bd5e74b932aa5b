"""The ledger check (acknowledged writes found with their last value) and the traffic windows."""

from __future__ import annotations

from taskflow_chaos.ledger import Ledger, compare
from taskflow_chaos.traffic import Sample, failures_between, longest_gap


def test_every_acknowledged_value_found_is_no_loss() -> None:
    ledger = Ledger()
    ledger.acknowledge(1, "a")
    ledger.acknowledge(1, "a-v2")
    ledger.acknowledge(2, "b")
    result = compare(ledger, {1: "a-v2", 2: "b", 3: "extra, never acknowledged"})
    assert (result.lost, result.found_with_last_value, result.acknowledged_tasks) == (0, 2, 2)
    assert ledger.writes_acknowledged == 3


def test_missing_task_and_older_value_are_lost_writes() -> None:
    ledger = Ledger()
    ledger.acknowledge(1, "a")
    ledger.acknowledge(1, "a-v2")
    ledger.acknowledge(2, "b")
    result = compare(ledger, {1: "a"})
    assert result.missing == (2,)
    assert result.stale == ((1, "a-v2", "a"),)
    assert result.lost == 2


def test_an_unanswered_update_may_or_may_not_have_landed() -> None:
    ledger = Ledger()
    ledger.acknowledge(1, "a")
    ledger.unanswered_update(1, "a-v2")
    assert compare(ledger, {1: "a"}).lost == 0
    assert compare(ledger, {1: "a-v2"}).lost == 0
    assert compare(ledger, {1: "something else"}).lost == 1


def test_longest_gap_and_failures_in_a_window() -> None:
    samples = [
        Sample(10.0, "list", True, 200, 0.01),
        Sample(11.0, "list", False, 500, 0.01),
        Sample(15.0, "list", False, None, 5.0, "timeout"),
        Sample(16.5, "list", True, 200, 0.01),
    ]
    assert longest_gap(samples) == 6.5
    assert [s.at for s in failures_between(samples, 10.5, 20.0)] == [11.0]
    assert [s.at for s in failures_between(samples, 9.0, 12.0)] == [11.0]
    assert [s.at for s in failures_between(samples, None, None)] == [11.0, 15.0]
