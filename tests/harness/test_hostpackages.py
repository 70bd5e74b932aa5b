"""System packages for the sessions: what is installed, how, and the line when it cannot be."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness import hostpackages


def test_install_commands_are_noninteractive_apt_with_a_lock_timeout() -> None:
    assert hostpackages.install_command(["postgresql"], ["sudo", "-n"]) == [
        ["sudo", "-n", "apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-qq"],
        [
            "sudo", "-n", "apt-get", "-o", "DPkg::Lock::Timeout=600",
            "install", "-y", "-qq", "--no-install-recommends", "postgresql",
        ],
    ]  # fmt: skip


def test_present_packages_need_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    present = tmp_path / "pg_ctl"
    present.touch()
    monkeypatch.setitem(hostpackages.PACKAGES, "postgresql", (present, "postgresql"))
    assert hostpackages.ensure(["postgresql"]) == []


def test_without_root_or_sudo_says_what_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(hostpackages.PACKAGES, "chromium", (tmp_path / "absent", "chromium"))
    monkeypatch.setattr(hostpackages, "privilege_prefix", lambda: None)
    monkeypatch.setattr(hostpackages.shutil, "which", lambda name: "/usr/bin/apt-get")
    (line,) = hostpackages.ensure(["chromium"])
    assert line == "chromium: not installed, and installing needs root (run `sudo apt-get install chromium`)"


def test_unknown_package_is_refused() -> None:
    assert hostpackages.main(["firefox"]) == 2


def _session_runs(session_name: str) -> list[list[str]]:
    """The string arguments of each `session.run(...)` in a noxfile session, in source order
    (nox itself is not installed in the session venvs the tests run in)."""
    noxfile = Path(__file__).parents[2] / "noxfile.py"
    (function,) = [
        node
        for node in ast.walk(ast.parse(noxfile.read_text()))
        if isinstance(node, ast.FunctionDef) and node.name == session_name
    ]
    return [
        [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        for call in ast.walk(function)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run"
        and ast.unparse(call.func.value) == "session"
    ]


def test_the_fast_suite_installs_its_system_packages_before_its_tests() -> None:
    runs = _session_runs("tests")
    (installs,) = [run for run in runs if run[:3] == ["python", "-m", "harness.hostpackages"]]
    expected = {"postgresql", "chromium", "npm", "iptables", "nftables"}
    assert set(installs[3:]) == expected <= set(hostpackages.PACKAGES)
    assert runs.index(installs) < next(i for i, run in enumerate(runs) if run[:1] == ["pytest"])
