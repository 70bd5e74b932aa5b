"""Each sabotage makes exactly its check fail (real cluster, real deploy), and an unsabotaged
control run of the same scenarios shows those checks passing.

Each run is a pytest subprocess over the sabotage's scenario module with `--sabotage NAME`; the
assertions read that run's evidence: the named check failed, and every other failed check is one
the sabotage lists in `also` (the same break seen from another angle), never an unrelated one.

The extended matrix (marker `sabotage_extended`: the slow sabotages and the chaos and load ones,
2-7 min each) runs on its own, `nox -s cluster -- sabotage-extended`. In CI it runs last, cheapest
first, as far as the 90-minute budget allows: `.ci/run` exports TASKFLOW_CI_DEADLINE (epoch
seconds) and each extended test that no longer fits skips with the minutes left and needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from harness.sabotage import SABOTAGES, Sabotage, ci_budget_shortfall, extended_sabotages

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 1800  # the control run includes every chaos experiment (about 8 min)
EXTENDED = extended_sabotages()


def run_scenarios(run_dir: Path, modules: list[str], *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    provider = os.environ.get("TASKFLOW_PROVIDER", "local")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *(f"scenarios/{module}" for module in modules),
            f"--provider={provider}",
            f"--run-dir={run_dir}",
            "-p",
            "no:cacheprovider",
            "-q",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    output = completed.stdout[-3000:] + completed.stderr[-3000:]
    evidence_file = run_dir / "evidence.jsonl"
    assert evidence_file.is_file(), output
    records = [json.loads(line) for line in evidence_file.read_text().splitlines()]
    return completed.returncode, records, output


def control_records(run_dir: Path, modules: list[str]) -> tuple[list[dict[str, Any]], str]:
    """The evidence of an unsabotaged run: the conformance run named by TASKFLOW_CONTROL_RUN
    (CI runs the whole verdict just before, on the same cluster), else a run of our own."""
    given = os.environ.get("TASKFLOW_CONTROL_RUN")
    if given:
        evidence_file = Path(given) / "evidence.jsonl"
        assert evidence_file.is_file(), f"TASKFLOW_CONTROL_RUN={given} has no evidence.jsonl"
        lines = evidence_file.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()], f"control run {given}"
    _, records, output = run_scenarios(run_dir, modules)
    return records, output


def is_expected(sabotage: Sabotage, record: dict[str, Any]) -> bool:
    patterns = (*sabotage.must_fail, *sabotage.also)
    return any(fnmatchcase(record["check"], pattern) for pattern in patterns)


def assert_fails_exactly_its_check(name: str, sabotage: Sabotage, tmp_path: Path) -> None:
    returncode, records, output = run_scenarios(
        tmp_path / "run", [sabotage.scenario], f"--sabotage={name}", *sabotage.select
    )
    named = [r for r in records if r["criterion"] == sabotage.breaks and r["check"] in sabotage.must_fail]
    wanted = " or ".join(map(repr, sabotage.must_fail))
    assert any(r["verdict"] == "fail" for r in named), (
        f"{name} ({sabotage.description}) should fail {sabotage.breaks} {wanted}; "
        f"recorded: {json.dumps(named)[:1500]}\n{output}"
    )
    unrelated = [r for r in records if r["verdict"] == "fail" and not is_expected(sabotage, r)]
    assert not unrelated, f"{name} also failed unrelated checks: " + json.dumps(unrelated)[:2000]
    assert returncode != 0, "a failed criterion must fail the pytest run"


def assert_control_passes(sabotages: dict[str, Sabotage], tmp_path: Path) -> None:
    modules = sorted({sabotage.scenario for sabotage in sabotages.values()})
    records, output = control_records(tmp_path / "control", modules)
    for sabotage in sabotages.values():
        for check in sabotage.must_fail:
            named = [r for r in records if r["criterion"] == sabotage.breaks and r["check"] == check]
            assert named, f"control run recorded no '{check}' ({sabotage.breaks})\n{output}"
            assert all(r["verdict"] == "pass" for r in named), json.dumps(named)[:1500]


@pytest.mark.parametrize("name", list(SABOTAGES))
def test_sabotage_fails_exactly_its_check(name: str, tmp_path: Path) -> None:
    assert_fails_exactly_its_check(name, SABOTAGES[name], tmp_path)


def test_control_run_passes_every_sabotaged_check(tmp_path: Path) -> None:
    """The same scenarios on an unbroken deployment: each sabotage's check is recorded and passes."""
    assert_control_passes(SABOTAGES, tmp_path)


EXTENDED_SHORTFALL = ci_budget_shortfall(os.environ.get("TASKFLOW_CI_DEADLINE"), time.time(), EXTENDED)


@pytest.mark.sabotage_extended
@pytest.mark.parametrize("name", list(EXTENDED))
def test_extended_sabotage_fails_exactly_its_check(name: str, tmp_path: Path) -> None:
    # Each one asks the budget for itself, cheapest first: CI runs as many as fit.
    shortfall = ci_budget_shortfall(
        os.environ.get("TASKFLOW_CI_DEADLINE"), time.time(), {name: EXTENDED[name]}
    )
    if shortfall:
        pytest.skip(shortfall)
    started = time.monotonic()
    try:
        assert_fails_exactly_its_check(name, EXTENDED[name], tmp_path)
    finally:
        seconds = time.monotonic() - started
        print(f"{name}: {seconds:.0f} s (measured when verified: {EXTENDED[name].live_seconds} s)")


@pytest.mark.sabotage_extended
def test_control_run_passes_every_extended_sabotage_check(tmp_path: Path) -> None:
    """The conformance run (TASKFLOW_CONTROL_RUN) ran every experiment and the load run unbroken:
    each extended sabotage's check is recorded there and passes. Without it, a run of our own
    (chaos and load scenarios, about 12 min) — which the CI budget may not allow."""
    if EXTENDED_SHORTFALL and not os.environ.get("TASKFLOW_CONTROL_RUN"):
        pytest.skip(EXTENDED_SHORTFALL)
    assert_control_passes(EXTENDED, tmp_path)
