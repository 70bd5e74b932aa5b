"""System packages for the sessions: what is installed, how, and the line when it cannot be."""

from __future__ import annotations

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
