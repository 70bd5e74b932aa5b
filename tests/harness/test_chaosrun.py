"""Journals of chaos experiments become checks: what they measured, and failures for what went wrong."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from harness.chaos_timeline import record_in_index, write_experiment_page
from harness.chaosrun import (
    FAULT_NOT_OBSERVED,
    ChaosTarget,
    chaos_command,
    experiment_criteria,
    experiment_names,
    outcome_of,
    run_experiment,
)


def check(criterion: str, name: str, *, ok: bool, fault: bool = False) -> dict[str, Any]:
    return {
        "criterion": criterion,
        "check": name,
        "ok": ok,
        "metric": "m",
        "value": 1.5,
        "unit": "s",
        "budget": "<= 2 s",
        "detail": "",
        "samples": [],
        "fault": fault,
    }


def activity_run(name: str, output: Any, status: str = "succeeded", kind: str = "probe") -> dict[str, Any]:
    return {
        "activity": {"name": name, "type": kind},
        "status": status,
        "output": output,
        "start": "2026-11-28T23:00:00.000000",
        "end": "2026-11-28T23:00:02.500000",
    }


def journal(*runs: dict[str, Any], status: str = "completed", **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "deviated": False,
        "steady_states": {},
        "run": list(runs),
        "rollbacks": [],
        **extra,
    }


def test_checks_of_a_clean_run_are_taken_as_measured() -> None:
    outcome = outcome_of(
        "demo",
        ("EDGE-MCP",),
        journal(
            activity_run(
                "gone",
                {
                    "checks": [check("EDGE-MCP", "pods gone", ok=True, fault=True)],
                    "events": [{"at": 1.0, "what": "gone"}],
                    "seconds_to_fault": 1.5,
                },
            ),
            activity_run("chat", {"checks": [check("EDGE-MCP", "chat 503", ok=False)]}),
        ),
    )
    assert [(c.check, c.ok) for c in outcome.checks] == [("demo: pods gone", True), ("demo: chat 503", False)]
    assert outcome.facts == {"gone.seconds_to_fault": 1.5}
    assert [event.what for event in outcome.events] == ["gone"]


def test_a_run_without_a_passing_fault_check_fails_every_criterion() -> None:
    outcome = outcome_of(
        "demo",
        ("FR-008", "SC-005"),
        journal(activity_run("gone", {"checks": [check("FR-008", "pod gone", ok=False, fault=True)]})),
    )
    not_observed = [c for c in outcome.checks if c.detail == FAULT_NOT_OBSERVED]
    assert {c.criterion for c in not_observed} == {"FR-008", "SC-005"}
    assert not any(c.ok for c in not_observed)


def test_unmet_steady_state_before_says_nothing_was_injected() -> None:
    before = {
        "steady_state_met": False,
        "probes": [
            {
                "activity": {"name": "mcp-server-available"},
                "tolerance_met": False,
                "exception": "Deployment 'x' was not found",
            }
        ],
    }
    outcome = outcome_of("demo", ("EDGE-MCP",), journal(status="failed", steady_states={"before": before}))
    details = " ".join(c.detail for c in outcome.checks if not c.ok)
    assert "steady state not met before the fault" in details
    assert "Deployment 'x' was not found" in details


def test_a_completed_run_whose_steady_state_failed_afterwards_is_not_clean() -> None:
    after = {
        "steady_state_met": False,
        "probes": [{"activity": {"name": "chat-answers"}, "tolerance_met": False, "output": False}],
    }
    outcome = outcome_of(
        "demo",
        ("EDGE-MCP",),
        journal(
            activity_run("gone", {"checks": [check("EDGE-MCP", "gone", ok=True, fault=True)]}),
            deviated=True,
            steady_states={"after": after},
        ),
    )
    (failed,) = [c for c in outcome.checks if not c.ok]
    assert failed.check == "demo: experiment ran cleanly"
    assert "steady state not back after the fault (chat-answers: returned False)" in failed.detail


def test_a_crashed_activity_fails_the_experiment() -> None:
    outcome = outcome_of(
        "demo",
        ("EDGE-CRASH",),
        journal(
            activity_run("gone", {"checks": [check("EDGE-CRASH", "gone", ok=True, fault=True)]}),
            activity_run("hang", None, status="failed", kind="action")
            | {"exception": ["Traceback", "boom\n"]},
        ),
    )
    assert any("action hang failed" in c.detail and "boom" in c.detail for c in outcome.checks)


def test_every_experiment_names_the_criteria_it_proves() -> None:
    names = experiment_names()
    assert "mcp-outage" in names and "postgres-kill-under-writes" in names
    for name in names:
        assert experiment_criteria(name), f"chaos/{name}.yaml has no tags naming its criteria"


def test_timeline_page_and_index(tmp_path: Path) -> None:
    out = tmp_path / "chaos" / "demo"
    out.mkdir(parents=True)
    (out / "writes.jsonl").write_text(
        '{"at": 1764370800.5, "op": "create", "ok": true, "status": 201, "seconds": 0.02, "error": ""}\n'
        '{"at": 1764370801.5, "op": "create", "ok": false, "status": null, "seconds": 5, "error": "t"}\n'
    )
    outcome = outcome_of(
        "demo",
        ("SC-005",),
        journal(
            activity_run("kill", {"checks": [check("SC-005", "gone", ok=True, fault=True)]}, kind="action")
        ),
    )
    outcome.output_dir = out
    page = write_experiment_page(outcome, tmp_path / "chaos" / "demo.html")
    text = page.read_text()
    assert "<svg" in text and "demo: gone" in text and "writes.jsonl" in text
    index = record_in_index(tmp_path, outcome, page)
    assert 'href="chaos/demo.html"' in index.read_text()


@pytest.mark.skipif(chaos_command() is None, reason="chaostoolkit not installed in this environment")
def test_experiment_that_cannot_reach_a_cluster_fails_before_injecting(tmp_path: Path) -> None:
    """Real `chaos run` against a kubeconfig that points nowhere: one clear failure, nothing run."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\n"
    )
    target = ChaosTarget("nowhere", kubeconfig, "127.0.0.1", 9)
    os.environ.pop("TASKFLOW_NAMESPACE", None)
    outcome = run_experiment("mcp-outage", target, tmp_path / "out", timeout=120)
    assert outcome.status == "failed"
    assert {activity.kind for activity in outcome.activities} <= {"steady-state", "rollback"}, "method ran"
    assert any("steady state not met before the fault" in c.detail for c in outcome.checks)
    assert (tmp_path / "out" / "journal.json").is_file()


@pytest.mark.skipif(chaos_command() is None, reason="chaostoolkit not installed in this environment")
def test_an_experiment_that_overstays_is_interrupted_and_still_rolls_back(tmp_path: Path) -> None:
    """Real `chaos run`: the method hangs, the timeout sends SIGTERM, the rollback still runs."""
    rolled_back = tmp_path / "rolled-back"
    undo = f"{{type: process, path: touch, arguments: '{rolled_back}'}}"
    experiment = tmp_path / "hang.yaml"
    experiment.write_text(
        "version: 1.0.0\ntitle: hang\ndescription: d\ntags: [EDGE-CRASH]\n"
        "runtime: {rollbacks: {strategy: always}}\n"
        "method:\n"
        "  - {type: action, name: hang, provider: {type: process, path: sleep, arguments: '60'}}\n"
        "rollbacks:\n"
        f"  - {{type: action, name: undo, provider: {undo}}}\n"
    )
    target = ChaosTarget("nowhere", tmp_path / "no-kubeconfig", "127.0.0.1", 9)
    outcome = run_experiment("hang", target, tmp_path / "out", timeout=8, experiment=experiment)
    assert rolled_back.exists(), (tmp_path / "out" / "console.log").read_text()[-2000:]
    assert outcome.status == "interrupted"
    assert any("experiment interrupted" in check.detail for check in outcome.checks if not check.ok)
