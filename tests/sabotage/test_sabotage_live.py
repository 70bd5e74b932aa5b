"""Each scenario fails on a deployment broken on purpose (real cluster, real deploy).

Runs the scenario module of every sabotage in a pytest subprocess with `--sabotage NAME`, and
reads that run's evidence: the criterion the sabotage breaks must come out `fail`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.sabotage import SABOTAGES

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 900


@pytest.mark.parametrize("name", list(SABOTAGES))
def test_scenario_fails_on_sabotaged_deployment(name: str, tmp_path: Path) -> None:
    sabotage = SABOTAGES[name]
    provider = os.environ.get("TASKFLOW_PROVIDER", "local")
    run_dir = tmp_path / "run"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            f"scenarios/{sabotage.scenario}",
            f"--sabotage={name}",
            f"--provider={provider}",
            f"--run-dir={run_dir}",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    evidence_file = run_dir / "evidence.jsonl"
    assert evidence_file.is_file(), completed.stdout[-3000:] + completed.stderr[-3000:]
    records = [json.loads(line) for line in evidence_file.read_text().splitlines()]
    verdicts = {record["verdict"] for record in records if record["criterion"] == sabotage.breaks}
    assert "fail" in verdicts, (
        f"{name} ({sabotage.description}) should make {sabotage.breaks} fail; evidence: "
        + json.dumps([r for r in records if r["criterion"] == sabotage.breaks])[:2000]
    )
    assert completed.returncode != 0, "a failed criterion must fail the pytest run"
