"""`python -m harness.policy`: a table of every rule and its verdict; non-zero exit on violations."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.policy import ALL_RULES
from harness.policy.__main__ import main as policy_main
from harness.policy.objects import Manifest


def test_overlay_table_lists_every_rule_as_passing(capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_main(["--overlay", "local"]) == 0
    output = capsys.readouterr().out
    for rule in ALL_RULES:
        assert f"  {rule.id} " in output and rule.requirement in output
    assert output.splitlines()[0].startswith("overlays/local (")
    assert f"{len(ALL_RULES)} passed, 0 failed" in output


def test_violations_make_the_exit_code_1(
    tmp_path: Path, rendered_overlays: dict[str, list[Manifest]], capsys: pytest.CaptureFixture[str]
) -> None:
    objects = [o for o in rendered_overlays["kind"] if o["kind"] != "PodDisruptionBudget"]
    (tmp_path / "all.yaml").write_text(yaml.safe_dump_all(objects))
    assert policy_main(["--dir", str(tmp_path)]) == 1
    output = capsys.readouterr().out
    assert "PDB-STATELESS-SERVICES       FR-005  FAIL 3" in output
    assert "Deployment/taskflow/mcp-server: no PodDisruptionBudget selects its pods" in output
    assert f"{len(ALL_RULES) - 1} passed, 1 failed" in output


def test_default_checks_every_overlay(capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_main([]) == 0
    titles = [
        line.split(" (")[0] for line in capsys.readouterr().out.splitlines() if line.startswith("overlays/")
    ]
    assert titles == ["overlays/kind", "overlays/local", "overlays/minikube"]
