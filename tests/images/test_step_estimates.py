"""A long image step says how long it took here last time (stored in the cache), and only a
finished run of it counts as a measurement."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.images import run


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))


def _sleep(seconds: float) -> list[str]:
    return [sys.executable, "-c", f"import time; time.sleep({seconds})"]


def test_a_named_step_is_timed_and_quoted_on_its_next_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "step.log"
    run.run_logged(_sleep(0.3), what="npm ci for frontend", log=log, step="npm ci for frontend")
    first = capsys.readouterr().err
    assert "images: npm ci for frontend ...\n" in first  # nothing measured yet: no figure invented
    recorded = run.last_seconds("npm ci for frontend")
    assert recorded is not None and 0.3 <= recorded < 5

    run.run_logged(
        _sleep(0.5), what="npm ci for frontend", log=log, step="npm ci for frontend", heartbeat=0.2
    )
    second = capsys.readouterr().err
    assert f"npm ci for frontend ... (took {recorded:.0f} s last time here)" in second
    assert f"s of ~{recorded:.0f} s last time here, log: {log})" in second  # the heartbeat too
    assert run.last_seconds("next build of frontend") is None  # per step, not one figure for all


def test_a_failed_run_leaves_the_last_measurement_alone(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    run.record_seconds("building localhost/taskflow/backend", 42.0)
    with pytest.raises(UserError):
        run.run_logged(
            [sys.executable, "-c", "raise SystemExit(2)"],
            what="building x",
            log=log,
            step="building localhost/taskflow/backend",
        )
    assert run.last_seconds("building localhost/taskflow/backend") == 42.0


def test_an_unnamed_step_records_nothing_and_a_corrupt_file_is_ignored(tmp_path: Path) -> None:
    run.run_logged(_sleep(0), what="short", log=tmp_path / "log")
    assert not (tmp_path / "cache" / "images" / run.STEP_TIMES_NAME).exists()
    (tmp_path / "cache" / "images").mkdir(parents=True)
    (tmp_path / "cache" / "images" / run.STEP_TIMES_NAME).write_text("{not json")
    assert run.last_seconds("npm ci for frontend") is None
    run.run_logged(_sleep(0), what="again", log=tmp_path / "log", step="npm ci for frontend")
    assert run.last_seconds("npm ci for frontend") is not None
