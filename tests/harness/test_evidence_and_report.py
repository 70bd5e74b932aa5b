"""Evidence records and the report built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.evidence import Evidence, EvidenceLog, Verdict, percentile
from harness.report import criterion_rows, criterion_verdict, histogram_svg, write_report


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
    assert len(rows) == 15
    by_id = {row.criterion: row for row in rows}
    assert by_id["FR-003"].verdict is Verdict.FAIL
    assert by_id["SC-004"].summary == "skipped: no check of this criterion ran"


def test_percentile_nearest_rank() -> None:
    samples = [float(value) for value in range(1, 101)]
    assert percentile(samples, 0.95) == pytest.approx(95.05, abs=0.1)
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
        title="T",
        context={"provider": "local"},
        links={"junit": "junit.xml", "locust": "locust.html"},
    )
    page = index.read_text()
    assert "tasks lost: 2" in page
    assert 'href="junit.xml"' in page and "locust.html" not in page
    assert page.count('class="verdict fail"') >= 2
    assert "<svg" in page
