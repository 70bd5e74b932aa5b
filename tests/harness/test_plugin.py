"""The pytest plugin and the verdict model, pinned with synthetic runs (pytester, no cluster)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema
import pytest

from harness.summary import schema

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


def run(
    pytester: pytest.Pytester, source: str, *args: str, conftest: str = ""
) -> tuple[pytest.RunResult, Path]:
    pytester.makeconftest('pytest_plugins = ["harness.plugin"]\n' + conftest)
    pytester.makepyfile(test_scenarios=source)
    run_dir = pytester.path / "reports" / "run"
    result = pytester.runpytest_subprocess(f"--run-dir={run_dir}", *args)
    return result, run_dir


def records_of(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "evidence.jsonl").read_text().splitlines()]


def verdicts_of(run_dir: Path) -> dict[str, tuple[str, str]]:
    summary = json.loads((run_dir / "summary.json").read_text())
    return {row["id"]: (row["verdict"], row["reason"]) for row in summary["criteria"]}


def test_outcomes_become_evidence_report_and_summary(pytester: pytest.Pytester) -> None:
    result, run_dir = run(pytester, SCENARIOS, f"--junitxml={pytester.path / 'reports/run/junit.xml'}")
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    verdicts = verdicts_of(run_dir)
    assert verdicts["FR-001"][0] == "pass"
    assert verdicts["FR-002"][0] == "fail"
    assert verdicts["FR-003"] == ("fail", verdicts["FR-003"][1])
    assert "call: RuntimeError: ingress unreachable" in verdicts["FR-003"][1]
    assert verdicts["SC-004"] == ("skipped", "skipped: no load generator")
    summary = json.loads((run_dir / "summary.json").read_text())
    jsonschema.validate(summary, schema())
    assert summary["provider"] is None and summary["run"] == "run"
    result.stdout.fnmatch_lines(["*FR-002 calls: failed calls=3 (budget 0)*"])
    page = (run_dir / "index.html").read_text()
    assert "no load generator" in page and "ingress unreachable" in page
    assert page.index('id="SC-004"') < page.index('id="FR-002"') < page.index('id="FR-001"')
    assert 'href="junit.xml"' in page and 'href="summary.json"' in page
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()
    junit = ElementTree.parse(run_dir / "junit.xml")
    properties = {
        (case.get("name"), prop.get("name"), prop.get("value"))
        for case in junit.iter("testcase")
        for prop in case.iter("property")
    }
    assert ("test_measures_and_fails", "criterion", "FR-002") in properties


def test_crash_after_partial_evidence_fails_the_criterion(pytester: pytest.Pytester) -> None:
    result, run_dir = run(
        pytester,
        """
import pytest

@pytest.mark.criterion("FR-008")
def test_recovery(evidence):
    evidence.check("FR-008", "claim bound", ok=True, metric="bound", value=1, budget="1")
    raise TimeoutError("timed out after 180s waiting for postgres-0\\nmore detail")
""",
    )
    verdict, reason = verdicts_of(run_dir)["FR-008"]
    assert verdict == "fail"
    assert "call: TimeoutError: timed out after 180s waiting for postgres-0" in reason
    assert "more detail" not in reason
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_failing_teardown_after_passing_checks_fails_the_criterion(pytester: pytest.Pytester) -> None:
    _, run_dir = run(
        pytester,
        """
import pytest

@pytest.fixture
def breaks_on_the_way_out():
    yield
    raise RuntimeError("cleanup failed")

@pytest.mark.criterion("SC-005")
def test_restart(breaks_on_the_way_out, evidence):
    evidence.check("SC-005", "no data lost", ok=True, metric="lost", value=0, budget="0")
""",
    )
    verdict, reason = verdicts_of(run_dir)["SC-005"]
    assert verdict == "fail" and "teardown: RuntimeError: cleanup failed" in reason


def test_tagged_test_that_records_nothing_fails(pytester: pytest.Pytester) -> None:
    result, run_dir = run(
        pytester,
        """
import pytest

@pytest.mark.criterion("FR-009", "FR-002")
def test_quietly_passes(evidence):
    evidence.check("FR-009", "dns", ok=True, metric="resolved", value=1, budget="1")
""",
    )
    verdicts = verdicts_of(run_dir)
    assert verdicts["FR-009"][0] == "pass"
    assert verdicts["FR-002"][0] == "fail" and "recorded no evidence" in verdicts["FR-002"][1]
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_evidence_failed_in_session_teardown_fails_the_run(pytester: pytest.Pytester) -> None:
    result, run_dir = run(
        pytester,
        """
import pytest
from harness.evidence import Evidence, Verdict

@pytest.fixture(scope="session")
def uptime(evidence_log):
    yield
    evidence_log.record(
        Evidence("SC-001", "frontend up", "uptime", 90.0, "%", ">= 99 %", Verdict.FAIL, "down 6 s")
    )

@pytest.mark.criterion("FR-001")
def test_pods(uptime, evidence):
    evidence.check("FR-001", "pods", ok=True, metric="pods", value=4, budget="4")
""",
    )
    result.assert_outcomes(passed=1)
    assert verdicts_of(run_dir)["SC-001"][0] == "fail"
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAIL    SC-001: *frontend up*"])


def test_static_rules_alone_never_pass(pytester: pytest.Pytester) -> None:
    result, run_dir = run(
        pytester,
        """
import pytest

@pytest.mark.criterion("FR-007")
def test_rules(evidence):
    evidence.check("FR-007", "rule limits", ok=True, metric="violations", value=0, budget="0", kind="static")
""",
    )
    verdict, reason = verdicts_of(run_dir)["FR-007"]
    assert verdict == "skipped" and "not proven live" in reason
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # nothing was verified live at all


def test_skips_head_the_exit_summary_and_strict_fails_them(pytester: pytest.Pytester) -> None:
    source = """
import pytest

@pytest.mark.criterion("FR-001")
def test_pods(evidence):
    evidence.check("FR-001", "pods", ok=True, metric="pods", value=4, budget="4")

@pytest.mark.criterion("SC-004")
def test_load(evidence):
    evidence.skip("SC-004", "100 users", "locust is not installed")
"""
    relaxed, _ = run(pytester, source)
    assert relaxed.ret == pytest.ExitCode.OK
    relaxed.stdout.fnmatch_lines(["SKIPPED SC-004: skipped: locust is not installed"])
    strict = pytester.runpytest_subprocess(f"--run-dir={pytester.path / 'strict-run'}", "--strict")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines(["--strict: * skipped criteria fail the run"])


def test_reused_run_directory_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["harness.plugin"]')
    pytester.makepyfile(test_scenarios=SCENARIOS)
    (pytester.path / "old-run").mkdir()
    (pytester.path / "old-run" / "evidence.jsonl").write_text("{}\n")
    result = pytester.runpytest_subprocess(f"--run-dir={pytester.path / 'old-run'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: run directory * exists: *(fix: pass a new --run-dir*"])
    assert (pytester.path / "old-run" / "evidence.jsonl").read_text() == "{}\n"


def test_unknown_criterion_in_a_marker_is_refused(pytester: pytest.Pytester) -> None:
    result, run_dir = run(
        pytester,
        """
import pytest

@pytest.mark.criterion("FR-011")
def test_typo(evidence):
    pass
""",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: *test_typo: @pytest.mark.criterion names unknown criterion 'FR-011'*"]
    )
    assert not (run_dir / "summary.json").exists()


def test_malformed_evidence_record_is_one_line_and_fails(pytester: pytest.Pytester) -> None:
    result, _ = run(
        pytester,
        """
import pytest

@pytest.mark.criterion("FR-001")
def test_writes_by_hand(evidence_log):
    with evidence_log.path.open("a") as stream:
        stream.write('{"criterion": "FR-001", "check": "x"}\\n')
""",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["error: *evidence.jsonl:1: malformed evidence record (KeyError*"])


def test_summary_failing_its_schema_is_one_line_and_fails(pytester: pytest.Pytester) -> None:
    # A summary builder that writes a number where the schema wants the provider's name.
    broken_builder = """
import harness.plugin

_build = harness.plugin.build_summary
harness.plugin.build_summary = lambda *args, **kwargs: {**_build(*args, **kwargs), "provider": 7}
"""
    result, run_dir = run(
        pytester,
        """
import pytest

@pytest.mark.criterion("FR-001")
def test_measures(evidence):
    evidence.check("FR-001", "pods", ok=True, metric="problems", value=0)
""",
        conftest=broken_builder,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["error: *summary.json fails its schema at provider: *(fix: *"])
    assert not (run_dir / "summary.json").exists()
