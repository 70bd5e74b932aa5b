"""SC-001: the uptime monitor (scenarios/conftest.py) judges nothing on fewer than MIN_SAMPLES
samples per target. A run of a few scenarios (`-k`, a sabotage's select) is over sooner; this test,
last in the module order, keeps such a run going until every target has its minimum. In a full run
it returns at once."""

from __future__ import annotations

import time

from harness.uptime import MIN_SAMPLES, SAMPLE_INTERVAL_SECONDS, UptimeMonitor

SLACK_SECONDS = 30.0
"""Beyond the minimum's own duration at 1/s: for excluded windows and slow first samples."""


def fewest_counted(monitor: UptimeMonitor) -> int:
    return min(monitor.tally(target).counted for target in monitor.targets)


def test_uptime_has_its_minimum_samples(uptime: UptimeMonitor) -> None:
    deadline = time.monotonic() + MIN_SAMPLES * SAMPLE_INTERVAL_SECONDS + SLACK_SECONDS
    while fewest_counted(uptime) < MIN_SAMPLES and time.monotonic() < deadline:
        time.sleep(SAMPLE_INTERVAL_SECONDS)
    counted = fewest_counted(uptime)
    assert counted >= MIN_SAMPLES, (
        f"the uptime monitor has only {counted} samples for some target after waiting; SC-001 "
        "will say so (skipped), see the excluded windows in its evidence"
    )
