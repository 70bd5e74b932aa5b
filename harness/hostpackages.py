"""System packages the sessions need (PostgreSQL binaries, Chromium, iptables), installed from Debian or
Ubuntu the way the embedded cluster installs its own; where that cannot happen, one line says so
and the tests that need them skip with that reason.

CLI: python -m harness.hostpackages postgresql chromium npm
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# What a session needs -> (the file that proves it is installed, the Debian/Ubuntu package).
PACKAGES = {
    "postgresql": (Path("/usr/lib/postgresql/15/bin/pg_ctl"), "postgresql"),
    "chromium": (Path("/usr/bin/chromium"), "chromium"),
    # Node.js and npm build and run the frontend for the browser tests (Debian's npm pulls nodejs)
    "npm": (Path("/usr/bin/npm"), "npm"),
    # the host-safety tests' guard and chain reverts, run in scratch network namespaces
    "iptables": (Path("/usr/sbin/iptables-save"), "iptables"),
    "nftables": (Path("/usr/sbin/nft"), "nftables"),
    # Debian's Docker engine; Debian starts no service on install where no init system runs it,
    # and harness.docker starts it with paths of its own
    "docker": (Path("/usr/sbin/dockerd"), "docker.io"),
}
APT_LOCK_TIMEOUT_SECONDS = 600


def missing(names: list[str]) -> list[str]:
    return [name for name in names if not PACKAGES[name][0].exists()]


def privilege_prefix() -> list[str] | None:
    """[] as root, ["sudo", "-n"] where sudo works without a password, else None."""
    if os.geteuid() == 0:
        return []
    if (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
    ):
        return ["sudo", "-n"]
    return None


def install_command(packages: list[str], prefix: list[str]) -> list[list[str]]:
    lock = ["-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_SECONDS}"]
    return [
        [*prefix, "apt-get", *lock, "update", "-qq"],
        [*prefix, "apt-get", *lock, "install", "-y", "-qq", "--no-install-recommends", *packages],
    ]


def ensure(names: list[str]) -> list[str]:
    """Install what is missing; return one line per package still missing (empty when all there)."""
    absent = missing(names)
    if not absent:
        return []
    packages = [PACKAGES[name][1] for name in absent]
    if shutil.which("apt-get") is None:
        return [f"{name}: not installed and no apt-get here (install {name} yourself)" for name in absent]
    prefix = privilege_prefix()
    if prefix is None:
        fix = "installing needs root (run `sudo apt-get install {}`)"
        return [f"{name}: not installed, and {fix.format(PACKAGES[name][1])}" for name in absent]
    print(f"installing Debian packages: {' '.join(packages)}", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in install_command(packages, prefix):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return [f"{name}: `{' '.join(command)}` failed: {last[0]}" for name in absent]
    return [f"{name}: installed, but {PACKAGES[name][0]} is still missing" for name in missing(absent)]


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in PACKAGES]
    if unknown:
        print(f"unknown package(s) {unknown}; known: {', '.join(PACKAGES)}", file=sys.stderr)
        return 2
    for line in ensure(argv):
        print(f"skipping what needs {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
