"""A text snapshot of everything `up` may touch on the host, for before/after comparisons:
sysctls, links, addresses, routes, every iptables/ip6tables table, the nft ruleset, mounts,
cgroups below our own, the host dirs the runtime writes and the state dir."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from harness.cluster import cgroups, hoststate, network

# Counters and clocks the kernel changes by itself, whoever runs.
VOLATILE_SYSCTL = re.compile(
    r"^(fs/(dentry-state|dentry-negative|file-nr|inode-nr|inode-state|aio-nr|quota/)"
    r"|kernel/(ns_last_pid|random/|pty/nr|tainted)"
    r"|net/netfilter/nf_conntrack_count"
    r"|net/ipv4/route/(flush|gc_)"
    r"|vm/(stat_refresh|drop_caches|compact_memory))"
)


def _run(*argv: str) -> str:
    if shutil.which(argv[0]) is None:
        return f"({argv[0]} not installed)"
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=60)
    return proc.stdout + (f"(exit {proc.returncode}: {proc.stderr.strip()})" if proc.returncode else "")


def sysctls() -> list[str]:
    lines: list[str] = []
    root = Path("/proc/sys")
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            key = str(path.relative_to(root))
            if VOLATILE_SYSCTL.match(key):
                continue
            try:
                value = path.read_text().strip()
            except OSError:
                continue  # write-only or refused
            lines.append(f"{key} = {' '.join(value.split())}")
    return sorted(lines)


def _iptables(tool: str) -> list[str]:
    lines: list[str] = []
    for table in network.TABLES:
        out = _run(f"{tool}-save", "-t", table)
        for line in out.splitlines():
            if line.startswith("#"):
                continue
            lines.append(re.sub(r"\[\d+:\d+\]", "[-]", line))
    return lines


def _nft() -> list[str]:
    return [re.sub(r"(packets|bytes) \d+", r"\1 -", ln) for ln in _run("nft", "list", "ruleset").splitlines()]


def _mounts() -> list[str]:
    lines = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        sep = fields.index("-")
        lines.append(f"{fields[4]} {fields[sep + 1]} {fields[sep + 2]} {fields[5]}")
    return sorted(lines)


def _cgroups() -> list[str]:
    own = cgroups.own_cgroups()
    lines: list[str] = []
    for ctrl in sorted(set(own) | {"unified"}):
        top = cgroups.CGROUP_FS / ctrl / own.get(ctrl, "/").lstrip("/")
        if top.is_dir():
            lines += sorted(directory for directory, _, _ in os.walk(top))
    return lines


def _tree(root: Path) -> list[str]:
    if not root.exists():
        return [f"{root}: absent"]
    lines = [f"{root}: mode {oct(root.stat().st_mode & 0o7777)}"]
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(directory, name)
            info = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            lines.append(f"{path} {oct(info.st_mode)} {digest}")
    return sorted(lines)


def _links() -> list[str]:
    # names, kinds and masters; counters and the link state of the uplink may change by themselves
    lines = []
    for line in _run("ip", "-o", "-d", "link", "show").splitlines():
        words = line.split()
        name = words[1].rstrip(":")
        master = words[words.index("master") + 1] if "master" in words else "-"
        kind = next((k for k in ("bridge", "veth", "dummy", "vxlan", "ifb") if f" {k} " in line), "-")
        lines.append(f"{name} master={master} kind={kind}")
    return sorted(lines)


def _addresses() -> list[str]:
    return sorted(
        re.sub(r"valid_lft \S+ preferred_lft \S+", "", ln) for ln in _run("ip", "-o", "addr").splitlines()
    )


def take(state: Path) -> dict[str, list[str]]:
    return {
        "sysctls": sysctls(),
        "links": _links(),
        "addresses": _addresses(),
        "routes": _run("ip", "-d", "route", "show", "table", "all").splitlines()
        + _run("ip", "-6", "-d", "route", "show", "table", "all").splitlines(),
        "rules": _run("ip", "rule").splitlines(),
        "iptables": _iptables("iptables"),
        "ip6tables": _iptables("ip6tables"),
        "nft": _nft(),
        "mounts": _mounts(),
        "cgroups": _cgroups(),
        "host dirs": [ln for d in hoststate.HOST_DIRS for ln in _tree(d)],
        "state dir": _tree(state),
    }


def differences(before: dict[str, list[str]], after: dict[str, list[str]]) -> str:
    """'' when identical, else a unified diff per section that differs."""
    parts: list[str] = []
    for section, was in before.items():
        if was != after[section]:
            diff = difflib.unified_diff(was, after[section], "before up", "after down", lineterm="", n=0)
            parts.append(f"== {section}\n" + "\n".join(list(diff)[:60]))
    return "\n".join(parts)
