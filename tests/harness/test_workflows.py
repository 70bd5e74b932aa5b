"""The GitHub workflows: actionlint passes on both, and they run what README promises."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.workflows import WORKFLOWS, actionlint


def test_actionlint_passes_on_both_workflows() -> None:
    result = actionlint(WORKFLOWS / "nightly.yml", WORKFLOWS / "ci.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (
        (WORKFLOWS / "nightly.yml").read_text().replace("runs-on: ubuntu-24.04", "runs-on: ${{ matrix.os }}")
    )
    broken.write_text(text)
    result = actionlint(broken)
    assert result.returncode != 0
    assert "matrix" in result.stdout


def _steps(workflow: str) -> list[dict[str, object]]:
    document = yaml.safe_load((WORKFLOWS / workflow).read_text())
    (job,) = document["jobs"].values()
    return list(job["steps"])


def test_nightly_runs_conformance_on_kind_every_night_and_on_demand() -> None:
    document = yaml.safe_load((WORKFLOWS / "nightly.yml").read_text())
    triggers = document[True]  # YAML 1.1 reads the key `on` as true
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    runs = [str(step.get("run", "")) for step in _steps("nightly.yml")]
    assert "nox -s conformance -- --provider kind" in runs
    assert any("pip install nox" in run for run in runs)
    assert any("GITHUB_STEP_SUMMARY" in run for run in runs)
    uploads = [
        step
        for step in _steps("nightly.yml")
        if str(step.get("uses", "")).startswith("actions/upload-artifact")
    ]
    assert uploads and uploads[0]["with"]["path"] == "reports/"  # type: ignore[index]


def test_ci_runs_lint_and_the_fast_suite_on_push() -> None:
    document = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    assert "push" in document[True]
    runs = [str(step.get("run", "")) for step in _steps("ci.yml")]
    assert runs[-2:] == ["nox -s lint", "nox -s tests"]
