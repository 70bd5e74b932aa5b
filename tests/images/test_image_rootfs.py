"""Trimming a root filesystem removes what images never need, and never anything outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UserError
from harness.images import rootfs
from harness.images.recipes import COMMON_TRIM
from harness.images.rootfs import remove_tree, trim_rootfs


def make_files(root: Path, *relative: str) -> None:
    for name in relative:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)


def test_trim_keeps_programs_and_licences_and_drops_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    make_files(
        root,
        "usr/bin/python3",
        "usr/share/zoneinfo/Europe/Paris",
        "usr/share/doc/python3/copyright",
        "usr/share/doc/python3/changelog.Debian.gz",
        "usr/share/doc/python3/html/index.html",
        "usr/share/man/man1/python3.1.gz",
        "usr/share/locale/de/LC_MESSAGES/apt.mo",
        "var/lib/apt/lists/deb.debian.org_bookworm_Packages",
        "var/cache/apt/pkgcache.bin",
        "var/log/dpkg.log",
        "etc/resolv.conf",
        "etc/hostname",
        "tmp/leftover",
    )
    (root / "etc/machine-id").write_text("0123456789abcdef\n")
    trim_rootfs(root, COMMON_TRIM)
    kept = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert kept == [
        "etc/dpkg/dpkg.cfg.d/taskflow-nodoc",
        "etc/machine-id",
        "usr/bin/python3",
        "usr/share/doc/python3/copyright",
        "usr/share/zoneinfo/Europe/Paris",
    ]
    assert (root / "etc/machine-id").read_text() == ""
    assert (root / "tmp").is_dir() and (root / "var/lib/apt/lists").is_dir()


def test_trim_never_follows_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    outside = tmp_path / "host-run"
    make_files(outside, "important.pid")
    root.mkdir()
    (root / "var").mkdir()
    (root / "var" / "run").symlink_to(outside)  # as Debian's /var/run -> /run, but absolute
    trim_rootfs(root, ["var/run/*"])
    assert (outside / "important.pid").exists()


def test_remove_tree_refuses_a_tree_with_mounts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "work"
    make_files(target, "rootfs/proc/keep")
    monkeypatch.setattr(rootfs, "mounts_under", lambda directory: [target / "rootfs" / "proc"])
    with pytest.raises(UserError, match=r"still has mounts .*fix: umount -R "):
        remove_tree(target)
    assert (target / "rootfs/proc/keep").exists()


def test_no_mounts_under_a_fresh_directory(tmp_path: Path) -> None:
    assert rootfs.mounts_under(tmp_path) == []
    assert Path("/proc") in rootfs.mounts_under(Path("/proc"))
