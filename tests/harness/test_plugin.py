"""The pytest plugin: every criterion-tagged scenario leaves evidence, whatever its outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SCENARIOS = """
import pytest

@pytest.mark.criterion("FR-001")
def test_measures_and_passes(evidence):
    evidence.check("FR-001", "pods", ok=True, metric="problems", value=0, budget="0")

@pytest.mark.criterion("FR-002")
def test_measures_and_fails(evidence):
    evidence.check("FR-002", "calls", ok=False, metric="failed calls", value=3, budget="0")
    evidence.check("FR-002", "more calls", ok=True, metric="failed calls", value=0, budget="0")

@pytest.mark.criterion("FR-003")
def test_crashes_without_evidence():
    raise RuntimeError("ingress unreachable")

@pytest.mark.criterion("SC-004")
def test_cannot_run_here(evidence):
    evidence.skip("SC-004", "load", "no load generator")
"""


def run(pytester: pytest.Pytester) -> tuple[pytest.RunResult, list[dict[str, object]], Path]:
    pytester.makeconftest('pytest_plugins = ["harness.plugin"]')
    pytester.makepyfile(test_scenarios=SCENARIOS)
    run_dir = pytester.path / "run"
    result = pytester.runpytest_subprocess(f"--run-dir={run_dir}")
    records = [json.loads(line) for line in (run_dir / "evidence.jsonl").read_text().splitlines()]
    return result, records, run_dir


def test_outcomes_become_evidence_and_report(pytester: pytest.Pytester) -> None:
    result, records, run_dir = run(pytester)
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    verdicts = {(record["criterion"], record["check"]): record["verdict"] for record in records}
    assert verdicts[("FR-001", "pods")] == "pass"
    assert verdicts[("FR-002", "calls")] == "fail"
    assert verdicts[("FR-002", "more calls")] == "pass"
    assert verdicts[("FR-003", "test_crashes_without_evidence")] == "fail"
    assert verdicts[("SC-004", "load")] == "skipped"
    crash = next(record for record in records if record["criterion"] == "FR-003")
    assert "ingress unreachable" in str(crash["detail"])
    result.stdout.fnmatch_lines(["*FR-002 calls: failed calls=3 (budget 0)*"])
    page = (run_dir / "index.html").read_text()
    assert "no load generator" in page and "ingress unreachable" in page


def test_a_run_that_verified_nothing_fails(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["harness.plugin"]')
    pytester.makepyfile(
        test_skips="""
import pytest

@pytest.mark.criterion("FR-001")
def test_no_cluster(evidence):
    evidence.skip("FR-001", "pods", "no cluster here")
"""
    )
    result = pytester.runpytest_subprocess(f"--run-dir={pytester.path / 'run'}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no requirement could be checked on this run*"])
