"""Mounts the cluster leaves behind (pod volumes, netns, overlay rootfs) and their removal."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
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


def unmount_new(roots: Iterable[Path], before: Iterable[str], lazy_under: Path) -> list[str]:
    """Unmount what appeared under `roots` since `before` (deepest first); a lazy unmount only
    below `lazy_under` (our state dir). Returns what is still mounted."""
    roots = list(roots)
    known = set(before)
    for _ in range(3):
        targets = sorted({t for t in mounts_under(*roots) if t not in known}, key=lambda t: -t.count("/"))
        if not targets:
            return []
        for target in targets:
            if subprocess.run(
                ["umount", target], capture_output=True, check=False, timeout=60
            ).returncode != 0 and (target.startswith(str(lazy_under).rstrip("/") + "/")):
                subprocess.run(["umount", "-l", target], capture_output=True, check=False, timeout=60)
    return [t for t in mounts_under(*roots) if t not in known]
