"""Host packages the cluster runs on, installed from Debian; idempotent.

containerd comes from trixie (bookworm's 1.6 is older than Kubernetes 1.34 supports). The
trixie source is pinned to priority 1 so it never upgrades anything else on the host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import ClusterError

BOOKWORM_PACKAGES = [
    "runc",
    "containernetworking-plugins",
    "iptables",
    "conntrack",
    "catatonit",
    "ethtool",
    "socat",
    "util-linux",
    "mount",
]
CONTAINERD_MIN = (1, 7)

TRIXIE_SOURCE = Path("/etc/apt/sources.list.d/taskflow-trixie.sources")
TRIXIE_PIN = Path("/etc/apt/preferences.d/taskflow-trixie")
TRIXIE_SOURCE_TEXT = """\
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
TRIXIE_PIN_TEXT = """\
# Only fetched explicitly (containerd for the taskflow embedded cluster); never an upgrade source.
Package: *
Pin: release n=trixie
Pin-Priority: 1
"""

REQUIRED_TOOLS = {
    "containerd": "containerd",
    "runc": "runc",
    "iptables": "iptables",
    "conntrack": "conntrack",
    "catatonit": "catatonit",
    "/usr/lib/cni/bridge": "containernetworking-plugins",
}


def _say(msg: str) -> None:
    print(f"[deps] {msg}", file=sys.stderr, flush=True)


def _run(argv: list[str], what: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=_apt_env(), check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise ClusterError(
            f"{what} failed ({' '.join(argv)}):\n{tail}",
            "check that the Debian mirror is reachable and apt is not locked by another run",
        )
    return proc.stdout


def _apt_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DEBIAN_FRONTEND"] = "noninteractive"
    return env


def containerd_version() -> tuple[int, int] | None:
    exe = shutil.which("containerd")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    # "containerd github.com/containerd/containerd 1.7.24~ds1 ..."
    for word in out.split():
        head = word.lstrip("v").split("~")[0].split("-")[0]
        nums = head.split(".")
        if len(nums) >= 2 and nums[0].isdigit() and nums[1].isdigit():
            return int(nums[0]), int(nums[1])
    return None


def missing() -> list[str]:
    """Debian packages still to install (empty when the host is ready)."""
    need: list[str] = []
    for tool, pkg in REQUIRED_TOOLS.items():
        found = Path(tool).exists() if tool.startswith("/") else shutil.which(tool) is not None
        if not found and pkg not in need:
            need.append(pkg)
    version = containerd_version()
    if version is not None and version < CONTAINERD_MIN and "containerd" not in need:
        need.append("containerd")
    return need


def ensure() -> None:
    need = missing()
    if not need:
        return
    _say(f"installing Debian packages: {', '.join(need)}")
    _run(["apt-get", "update", "-q"], "apt-get update")
    if any(p != "containerd" for p in need):
        _run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *BOOKWORM_PACKAGES],
            "apt-get install",
        )
    if "containerd" in need:
        _install_trixie_containerd()
    still = missing()
    if still:
        raise ClusterError(
            f"packages still missing after install: {', '.join(still)}",
            "install them by hand with apt-get and run `up` again",
        )


def _install_trixie_containerd() -> None:
    """Fetch containerd's .deb through a temporary trixie source, install it with dpkg.

    The source and its pin are removed afterwards, so the host's apt keeps its own sources
    (later `apt-get update`s do not fetch trixie's lists).
    """
    _say("fetching containerd from Debian trixie (temporary source, pinned to priority 1)")
    TRIXIE_SOURCE.write_text(TRIXIE_SOURCE_TEXT)
    TRIXIE_PIN.write_text(TRIXIE_PIN_TEXT)
    try:
        _run(["apt-get", "update", "-q"], "apt-get update (with trixie)")
        workdir = Path("/var/cache/taskflow-debs")
        workdir.mkdir(parents=True, exist_ok=True)
        for old in workdir.glob("containerd_*.deb"):
            old.unlink()
        proc = subprocess.run(
            ["apt-get", "download", "containerd/trixie"],
            cwd=workdir,
            capture_output=True,
            text=True,
            env=_apt_env(),
            check=False,
        )
        if proc.returncode != 0:
            raise ClusterError(
                f"apt-get download containerd/trixie failed: {proc.stderr.strip()[-500:]}",
                "check that the Debian mirror serves trixie",
            )
        debs = sorted(workdir.glob("containerd_*.deb"))
        if not debs:
            raise ClusterError("containerd .deb not downloaded", "run `apt-get download` by hand")
        # The package's systemd unit is irrelevant here (no systemd); up runs containerd itself.
        _run(["dpkg", "-i", str(debs[-1])], "dpkg -i containerd")
    finally:
        TRIXIE_SOURCE.unlink(missing_ok=True)
        TRIXIE_PIN.unlink(missing_ok=True)
        _run(["apt-get", "update", "-q"], "apt-get update (trixie source removed)")
