"""The front page's headline per row: the preferred figures of harness.criteria.HEADLINES on a
passing row, the failing check on a failing one, the worst latency or first measurement otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.criteria import CRITERIA, ESSENTIAL_CHECKS, HEADLINES
from harness.evidence import Evidence, Kind, Verdict
from harness.verdict import Figure, criterion_rows


def live(
    criterion: str,
    check: str,
    metric: str,
    value: float | str,
    unit: str = "",
    *,
    budget: str = "",
    detail: str = "",
    samples: tuple[float, ...] = (),
) -> Evidence:
    return Evidence(criterion, check, metric, value, unit, budget, Verdict.PASS, detail, samples)


def rule(criterion: str, name: str) -> Evidence:
    return Evidence(
        criterion, f"manifest rule {name}", "violations", 0, "", "0", Verdict.PASS, kind=Kind.STATIC
    )


# A passing run shaped like a real one (check names, metrics and order as the scenarios record
# them), each row with checks recorded before its preferred one so that "first measured" is wrong.
SYNTHETIC_RUN: tuple[Evidence, ...] = (
    rule("FR-001", "WL-SEPARATE-WORKLOADS"),
    live(
        "FR-001",
        "frontend, backend and mcp-server in separate ready pods",
        "problems",
        0,
        budget="0",
        detail="frontend 2, backend 2, mcp-server 2 ready",
    ),
    live("FR-002", "frontend answers by service name", "failed calls", 0, budget="0 of 200"),
    live("FR-002", "backend answers by service name", "failed calls", 2, budget="0 of 200"),
    live("FR-002", "backend calls MCP tools at http://mcp-server:8080/mcp", "chat round trip", 33.2, "ms"),
    live("FR-003", "https://taskflow.local/ with the taskflow-tls certificate", "connection", "TLS verified"),
    live(
        "FR-003",
        "GET https://taskflow.local/ serves the frontend",
        "HTTP status",
        200,
        budget="200 with HTML",
    ),
    live("FR-005", "HPA backend reads CPU metrics", "time to first metric", 24.3, "s"),
    live("FR-005", "new backend pods become ready and take traffic", "new pods using CPU in the hold", 3),
    live("FR-005", "HPA scales back to 2 after the load stops", "time to minReplicas", 33.4, "s"),
    live(
        "FR-006",
        "liveness-restarts-hung-container: fault observed: /healthz no longer answers 200",
        "answer",
        "TimeoutError",
    ),
    live(
        "FR-006",
        "liveness-restarts-hung-container: container of app.kubernetes.io/name=backend restarted",
        "time to restart observed",
        61.17,
        "s",
        budget="restartCount up within 150 s",
    ),
    live(
        "FR-006",
        "readiness-removes-unready-pod: fault observed: the cut pod out of Service backend's ready endpoints",
        "time from fault",
        9.6,
        "s",
    ),
    live(
        "FR-007",
        "memory-hog-is-contained: fault observed: memory hog OOM-killed at its limit",
        "time",
        1.54,
        "s",
    ),
    live(
        "FR-008",
        "postgres-kill-under-writes: fault observed: pods deleted",
        "time to fault observed",
        0.14,
        "s",
    ),
    live(
        "FR-008",
        "postgres-kill-under-writes: API healthy again after the fault",
        "time from fault to API answering",
        3.25,
        "s",
        budget="<= 120 s",
    ),
    live(
        "FR-008",
        "postgres-process-kill-under-writes: API healthy again after the fault",
        "time from fault to API answering",
        2.64,
        "s",
        budget="<= 120 s",
    ),
    live("FR-009", "DNS name frontend resolves", "lookup time", 0.3, "ms"),
    live("FR-009", "DNS name backend resolves", "lookup time", 2.0, "ms"),
    live("FR-010", "backend reads ConfigMap/taskflow-config, Secret/taskflow-secrets", "missing sources", 0),
    live("SC-001", "all services deployed and ready after apply", "rollout time", 12.56, "s"),
    live("SC-001", "frontend answers 2xx within 2 s by service name", "uptime", 100.0, "%"),
    live("SC-001", "/api through the ingress answers 2xx within 2 s", "uptime", 99.5, "%"),
    live("SC-002", "frontend p99 latency by service name", "p99", 34.5, "ms", samples=(34.5,) * 200),
    live("SC-002", "backend p99 latency by service name", "p99", 3.3, "ms", samples=(3.3,) * 250),
    live("SC-004", "ramp100 load run (100 users through the ingress)", "load run", "completed"),
    live("SC-004", "all 100 users active through the hold", "users running", "100 / 100"),
    live(
        "SC-004",
        "p95 response time of task endpoints in the hold",
        "p95",
        10.6,
        "ms",
        samples=(9.0,) * 24,  # per-window p95s, not requests: no sample count in the headline
    ),
    live("SC-004", "failed requests in the hold", "failure ratio", 0.0, "%"),
    live(
        "SC-005", "backend-kill-under-load: fault observed: pods deleted", "time to fault observed", 0.15, "s"
    ),
    live(
        "SC-005",
        "rolling-update-under-writes: requests failed through the ingress during the fault (deployments)",
        "failed requests",
        0,
        budget="<= 0 of 781",
    ),
    live(
        "SC-005",
        "rolling-update-under-writes: every acknowledged write is present with its last acknowledged value",
        "tasks with their last acknowledged value",
        231,
        budget="= 231 acknowledged (and > 0)",
    ),
    live("EDGE-CRASH", "crash-recreates-pod: container restarted", "time to restart observed", 1.71, "s"),
    live("EDGE-CRASH", "crash-recreates-pod: API healthy again after the fault", "time to API", 4.87, "s"),
    live(
        "EDGE-CONTENTION",
        "memory-hog-is-contained: p95 latency through the ingress during the fault (requests)",
        "p95 latency",
        62.5,
        "ms",
        samples=(62.5,) * 551,
    ),
    live(
        "EDGE-CONTENTION",
        "memory-hog-is-contained: requests failed through the ingress during the fault (requests)",
        "failed requests",
        0,
    ),
    live("EDGE-MCP", "mcp-outage: fault observed: no pod left", "time to fault observed", 7.55, "s"),
    live(
        "EDGE-MCP",
        "mcp-outage: chat answers 503 with Retry-After while MCP is down",
        "answer",
        "503 Retry-After=5",
    ),
    live("EDGE-MCP", "mcp-outage: task list works during the fault", "list latency", 48.3, "ms"),
    live("EDGE-MCP", "mcp-outage: task update works during the fault", "update latency", 57.0, "ms"),
)

EXPECTED_HEADLINES = {
    "FR-001": "separate pods: frontend 2, backend 2, mcp-server 2 ready",
    "FR-002": "failed calls by service name 2 (worst of 2) · chat round trip through MCP 33.2 ms",
    "FR-003": "GET / through the ingress over TLS → 200",
    "FR-005": "new backend pods taking traffic 3 · back to minReplicas after the load 33.4 s",
    "FR-006": "liveness restarts a hung container in 61.17 s · readiness removes an unready pod in 9.6 s",
    "FR-007": "memory hog OOM-killed at its limit in 1.54 s",
    "FR-008": "API answering again after postgres killed in 3.25 s (worst of 2)",
    "FR-009": "DNS lookup 2.0 ms (worst of 2)",
    "FR-010": "missing ConfigMap/Secret sources 0",
    "SC-001": "uptime 99.5 % (worst of 2)",
    "SC-002": "p99 by service name 34.5 ms (worst of 2, 200 samples)",
    "SC-004": (
        "users active through the hold 100 / 100 · p95 of task endpoints 10.6 ms · failed requests 0.0 %"
    ),
    "SC-005": "tasks with every acknowledged write kept 231 · failed requests in the rolling update 0",
    "EDGE-CRASH": "API answering again after the crash in 4.87 s",
    "EDGE-CONTENTION": "p95 beside the hogs 62.5 ms (551 samples) · failed requests 0",
    "EDGE-MCP": (
        "chat while MCP is down 503 Retry-After=5 · task calls while MCP is down 57.0 ms (worst of 2)"
    ),
}


def headlines(evidence: Iterable[Evidence]) -> dict[str, str]:
    return {row.criterion: row.headline for row in criterion_rows(evidence)}


def figures(evidence: Iterable[Evidence], criterion: str) -> tuple[Figure, ...]:
    (row,) = [row for row in criterion_rows(evidence) if row.criterion == criterion]
    return row.headline_figures


def test_the_headline_table_names_known_criteria_only() -> None:
    assert set(HEADLINES) <= set(CRITERIA)
    assert all(figure.check and figure.label for row in HEADLINES.values() for figure in row)


def test_each_preferred_check_is_named_where_checks_are_recorded() -> None:
    # Check names are composed (experiment name + ": " + step), so each part is looked up alone:
    # a fragment mistyped or left behind by a renamed check fails here, not silently on the page.
    root = Path(__file__).resolve().parents[2]
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("scenarios", "chaos", "harness")
        for path in (root / folder).rglob("*")
        if path.suffix in {".py", ".yaml"} and path.name != "criteria.py"
    )
    missing = [
        f"{criterion}: {part!r}"
        for criterion, row in HEADLINES.items()
        for figure in row
        for part in figure.check.split(": ")
        if part not in sources
    ] + [
        f"{criterion}: {essential!r}"
        for criterion, essential in ESSENTIAL_CHECKS.items()
        if essential not in sources
    ]
    assert missing == []


def test_each_row_headlines_its_preferred_checks() -> None:
    shown = headlines(SYNTHETIC_RUN)
    assert {criterion: shown[criterion] for criterion in EXPECTED_HEADLINES} == EXPECTED_HEADLINES
    assert set(EXPECTED_HEADLINES) == set(HEADLINES)


def test_each_figure_carries_the_budget_it_was_held_to() -> None:
    assert figures(SYNTHETIC_RUN, "SC-005") == (
        Figure("tasks with every acknowledged write kept 231", "= 231 acknowledged (and > 0)"),
        Figure("failed requests in the rolling update 0", "<= 0 of 781"),
    )


def test_a_failing_check_is_the_headline_of_its_row() -> None:
    lost = Evidence(
        "SC-005",
        "backend-kill-under-load: every acknowledged write is present with its last acknowledged value",
        "tasks with their last acknowledged value",
        219,
        "",
        "= 221 acknowledged (and > 0)",
        Verdict.FAIL,
        "2 tasks lost their last acknowledged write",
    )
    shown = headlines((*SYNTHETIC_RUN, lost))
    assert shown["SC-005"] == "tasks with their last acknowledged value 219"
    assert figures((*SYNTHETIC_RUN, lost), "SC-005") == (
        Figure("tasks with their last acknowledged value 219", "= 221 acknowledged (and > 0)"),
    )
    assert shown["FR-008"] == EXPECTED_HEADLINES["FR-008"]


def test_without_its_preferred_checks_a_row_falls_back_to_its_first_measurement() -> None:
    unpreferred = ("API healthy again", "OOM-killed", "answers 2xx", "p99 latency by service name")
    run = [check for check in SYNTHETIC_RUN if not any(part in check.check for part in unpreferred)]
    shown = headlines(run)
    assert shown["FR-008"] == "time to fault observed 0.14 s"
    assert shown["FR-007"] == "-"
    assert shown["SC-001"] == "rollout time 12.56 s"
    # A row whose preferred figures did not run, or that has none (SC-003), shows its first measurement.
    journey = live("SC-003", "sign up … in Chromium through the ingress", "journey time", 2.9, "s")
    assert headlines([journey])["SC-003"] == "journey time 2.9 s"


def test_a_preferred_check_that_was_skipped_does_not_headline() -> None:
    skipped = Evidence(
        "SC-001",
        "backend answers 2xx within 2 s by service name",
        "uptime",
        None,
        "%",
        "",
        Verdict.SKIPPED,
        "35 of 60",
    )
    rollout = live("SC-001", "all services deployed and ready after apply", "rollout time", 12.56, "s")
    assert headlines([rollout, skipped])["SC-001"] == "rollout time 12.56 s"


def test_the_fallback_of_a_latency_row_is_its_worst_p99() -> None:
    fast = live("SC-002", "a p99", "p99", 20.0, "ms", budget="< 500 ms", samples=(20.0,) * 200)
    slow = live("SC-002", "b p99", "p99", 90.0, "ms", budget="< 500 ms", samples=(90.0,) * 200)
    assert headlines([fast, slow])["SC-002"] == "worst p99 90.0 ms (200 samples)"


def test_fr001_shows_its_detail_else_its_figure() -> None:
    assert figures(SYNTHETIC_RUN, "FR-001") == (Figure(EXPECTED_HEADLINES["FR-001"], ""),)
    pods = live(
        "FR-001", "frontend, backend and mcp-server in separate ready pods", "problems", 0, budget="0"
    )
    assert figures([pods], "FR-001") == (Figure("separate pods: problems 0", "0"),)


def test_headline_is_the_live_measurement_never_a_static_rule() -> None:
    # Static rules come first in a run's evidence (the manifest scenario runs before the live ones).
    pods = live("FR-001", "separate ready pods", "ready pods per service", 2, budget=">= 1")
    assert headlines([rule("FR-001", "R"), pods])["FR-001"] == "ready pods per service 2"
    assert headlines([rule("FR-001", "R")])["FR-001"] == "-"


def test_headline_shows_what_failed_the_row() -> None:
    passing = live("FR-001", "separate ready pods", "problems", 0, budget="0")
    crashed = Evidence(
        "FR-001", "test ran to the end", "test outcome", "error", "", "passes", Verdict.FAIL, "x"
    )
    assert headlines([passing, crashed])["FR-001"] == "test outcome error"
    no_value = Evidence("FR-001", "pods listed", "pods", None, "", ">= 1", Verdict.FAIL, "API down")
    assert headlines([passing, no_value])["FR-001"] == "pods"
    broken_rule = Evidence("FR-001", "rule", "violations", 2, "", "0", Verdict.FAIL, kind=Kind.STATIC)
    assert headlines([passing, broken_rule])["FR-001"] == "static violations 2"
    live_failure = Evidence("FR-001", "separate ready pods", "problems", 1, "", "0", Verdict.FAIL)
    assert headlines([broken_rule, live_failure])["FR-001"] == "problems 1"
