"""Evidence records and the report built from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.criteria import CRITERIA
from harness.errors import UserError
from harness.evidence import Evidence, EvidenceLog, Kind, MalformedEvidenceError, Verdict, percentile
from harness.recorder import EvidenceRecorder
from harness.report import criterion_rows, criterion_verdict, histogram_svg, write_report
from harness.summary import build_summary, validate_summary


def make(criterion: str, verdict: Verdict, detail: str = "", samples: tuple[float, ...] = ()) -> Evidence:
    return Evidence(criterion, "a check", "metric", 1.0, "ms", "< 2 ms", verdict, detail or "why", samples)


def test_unknown_criterion_is_rejected() -> None:
    with pytest.raises(ValueError, match="FR-999"):
        make("FR-999", Verdict.PASS)


def test_skipped_evidence_must_say_why() -> None:
    with pytest.raises(ValueError, match="must say why"):
        Evidence("FR-001", "c", "m", None, "", "", Verdict.SKIPPED, "")


def test_log_round_trips(tmp_path: Path) -> None:
    log = EvidenceLog(tmp_path / "run" / "evidence.jsonl")
    written = [make("FR-001", Verdict.PASS, samples=(1.0, 2.5)), make("SC-002", Verdict.FAIL)]
    for item in written:
        log.record(item)
    assert list(log) == written


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([], Verdict.SKIPPED),
        ([Verdict.PASS, Verdict.SKIPPED], Verdict.PASS),
        ([Verdict.PASS, Verdict.FAIL], Verdict.FAIL),
        ([Verdict.SKIPPED, Verdict.SKIPPED], Verdict.SKIPPED),
    ],
)
def test_criterion_verdict(verdicts: list[Verdict], expected: Verdict) -> None:
    verdict, summary = criterion_verdict([make("FR-001", verdict) for verdict in verdicts])
    assert verdict is expected
    if expected is Verdict.SKIPPED:
        assert summary.startswith("skipped: ")


def test_every_criterion_has_a_row_even_without_evidence() -> None:
    rows = criterion_rows([make("FR-003", Verdict.FAIL)])
    assert len(rows) == len(CRITERIA)
    by_id = {row.criterion: row for row in rows}
    assert by_id["FR-003"].verdict is Verdict.FAIL
    assert by_id["SC-004"].summary == "skipped: no check of this criterion ran"


def test_percentile_nearest_rank() -> None:
    samples = [float(value) for value in range(1, 101)]
    assert percentile(samples, 0.95) == 95.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile(samples, 0.5) == 50.0
    assert percentile([7.0], 0.5) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_histogram_marks_percentiles() -> None:
    svg = histogram_svg([1.0, 2.0, 3.0, 50.0], "ms")
    assert svg.startswith("<svg") and "p95" in svg and "p50" in svg
    assert histogram_svg([1.0], "ms") == ""


def test_report_shows_verdicts_and_numbers(tmp_path: Path) -> None:
    log = EvidenceLog(tmp_path / "evidence.jsonl")
    log.record(make("SC-002", Verdict.PASS, samples=(10.0, 12.0, 30.0)))
    log.record(make("FR-008", Verdict.FAIL, detail="tasks lost: 2"))
    (tmp_path / "junit.xml").write_text("<testsuites/>")
    index = write_report(
        tmp_path,
        criterion_rows(log),
        title="T",
        context={"provider": "local"},
        expected_files=["pytest.html"],
    )
    page = index.read_text()
    assert "tasks lost: 2" in page
    assert 'href="junit.xml"' in page and 'href="pytest.html"' in page and 'href="evidence.jsonl"' in page
    assert "locust.html" not in page
    assert page.count('class="verdict fail"') >= 2
    assert "<svg" in page


def test_report_escapes_what_checks_recorded(tmp_path: Path) -> None:
    chat = Evidence(
        "EDGE-MCP",
        "chat answers 503 with Retry-After",
        "answer",
        "503",
        "",
        "503 + Retry-After: <seconds>",
        Verdict.PASS,
    )
    page = write_report(tmp_path, criterion_rows([chat]), title="<T>", context={}).read_text()
    assert "budget 503 + Retry-After: &lt;seconds&gt;" in page
    assert "<seconds>" not in page and "<T>" not in page


def test_nearest_rank_p95_sees_three_slow_calls_of_fifty() -> None:
    samples = [100.0] * 47 + [900.0] * 3
    assert percentile(samples, 0.95) == 900.0
    assert percentile(samples, 0.5) == 100.0


def test_static_rules_alone_say_not_proven_live() -> None:
    static = Evidence("FR-007", "rule", "violations", 0, "", "0", Verdict.PASS, kind=Kind.STATIC)
    verdict, reason = criterion_verdict([static])
    assert verdict is Verdict.SKIPPED and "not proven live" in reason
    live = Evidence("FR-007", "limits enforced", "OOMKilled", 1, "", "1", Verdict.PASS)
    assert criterion_verdict([static, live])[0] is Verdict.PASS


def test_sc001_does_not_pass_on_its_rollout_time_while_uptime_is_unjudged() -> None:
    rollout = Evidence("SC-001", "all services deployed", "rollout time", 36.2, "s", "<= 300 s", Verdict.PASS)
    short = Evidence(
        "SC-001",
        "backend answers 2xx within 2 s by service name",
        "uptime",
        None,
        "%",
        "",
        Verdict.SKIPPED,
        "only 5",
    )
    up = Evidence(
        "SC-001", "frontend answers 2xx within 2 s by service name", "uptime", 100.0, "%", "", Verdict.PASS
    )
    (row,) = [row for row in criterion_rows([rollout, short]) if row.criterion == "SC-001"]
    assert row.verdict is Verdict.SKIPPED
    assert (
        row.summary == "skipped: its essential checks ('answers 2xx within 2 s') did not pass live (only 5)"
    )
    (row,) = [row for row in criterion_rows([rollout]) if row.criterion == "SC-001"]
    assert (row.verdict, row.summary.endswith("(none ran)")) == (Verdict.SKIPPED, True)
    (row,) = [row for row in criterion_rows([rollout, short, up]) if row.criterion == "SC-001"]
    assert row.verdict is Verdict.PASS
    late = Evidence(
        "SC-001", "all services deployed", "rollout time", 400.0, "s", "<= 300 s", Verdict.FAIL, "slow"
    )
    (row,) = [row for row in criterion_rows([late, short]) if row.criterion == "SC-001"]
    assert row.verdict is Verdict.FAIL
    # A row without essential checks still passes on any live pass.
    assert criterion_verdict([rollout])[0] is Verdict.PASS


def test_latency_check_needs_its_minimum_samples(tmp_path: Path) -> None:
    recorder = EvidenceRecorder(EvidenceLog(tmp_path / "evidence.jsonl"), "t")
    assert not recorder.latency("SC-002", "few", [10.0] * 199, budget=500, min_samples=200)
    assert recorder.latency("SC-002", "enough", [10.0] * 200, budget=500, min_samples=200)
    assert not recorder.latency(
        "SC-002", "slow tail", [10.0] * 197 + [900.0] * 3, budget=500, min_samples=200
    )
    few, enough, slow = recorder.recorded
    assert "only 199 samples, need >= 200" in few.detail
    assert enough.metric == "p99" and "p50 10 / p95 10 / p99 10 ms over 200 samples" in enough.detail
    assert slow.value == 900.0


def test_malformed_evidence_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "evidence.jsonl"
    path.write_text(json.dumps(make("FR-001", Verdict.PASS).to_json()) + "\n" + "not json\n")
    with pytest.raises(MalformedEvidenceError, match=r"evidence.jsonl:2: malformed evidence record"):
        list(EvidenceLog(path))


def test_summary_is_checked_against_its_schema() -> None:
    rows = criterion_rows([make("SC-002", Verdict.PASS, samples=(10.0, 12.0))])
    summary = build_summary(
        rows,
        run="r",
        provider="local",
        kubernetes_version="v1.34.4",
        started="2026-11-28T23:00:00+00:00",
        finished="2026-11-28T23:02:00+00:00",
    )
    validate_summary(summary)
    sc002 = next(row for row in summary["criteria"] if row["id"] == "SC-002")
    assert sc002["evidence"][0]["samples"]["count"] == 2
    summary["criteria"][0]["verdict"] = "green"
    with pytest.raises(UserError, match=r"fails its schema at criteria/0/verdict") as raised:
        validate_summary(summary)
    assert "\n" not in str(raised.value)
