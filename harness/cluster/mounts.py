"""Mounts the cluster leaves behind (pod volumes, netns, overlay rootfs) and their removal."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _unescape(path: str) -> str:
    # /proc/self/mountinfo escapes space, tab, newline and backslash as octal
    return path.encode().decode("unicode_escape")


def mounts_under(*roots: Path) -> list[str]:
    prefixes = [str(r).rstrip("/") + "/" for r in roots]
    found: list[str] = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        target = _unescape(line.split()[4])
        if any(target.startswith(p) or target + "/" == p for p in prefixes):
            found.append(target)
    return found


def unmount_all(*roots: Path) -> list[str]:
    """Unmount everything under `roots`, deepest first; returns what could not be unmounted."""
    for _ in range(3):
        targets = sorted(set(mounts_under(*roots)), key=lambda t: -t.count("/"))
        if not targets:
            return []
        for target in targets:
            if subprocess.run(["umount", target], capture_output=True, check=False).returncode != 0:
                subprocess.run(["umount", "-l", target], capture_output=True, check=False)
    return mounts_under(*roots)
