"""What the host offers for building images: root, the Debian tools, and which builder to use."""

from __future__ import annotations

import os
import shutil
from enum import StrEnum
from pathlib import Path

from harness.errors import UserError

from .run import capture, run_logged, say

# tool on PATH -> the Debian package that provides it
BASE_TOOLS = {"debootstrap": "debootstrap"}
BUILDAH_TOOLS = {"buildah": "buildah"}
BUILDER_ENV = "TASKFLOW_IMAGE_BUILDER"


class Builder(StrEnum):
    """The program that builds app images and holds them in its local store."""

    BUILDAH = "buildah"
    DOCKER = "docker"
    PODMAN = "podman"


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise UserError(
            f"{what} needs root (debootstrap and buildah's overlay storage do)",
            fix="run it as root, e.g. `sudo -E python -m harness.images build`",
        )


def missing_packages(tools: dict[str, str]) -> list[str]:
    """Debian packages to install so that every tool in `tools` is on PATH."""
    return sorted({package for tool, package in tools.items() if shutil.which(tool) is None})


def ensure_tools(tools: dict[str, str], log: Path) -> None:
    """Install the Debian packages behind `tools` when any is missing; idempotent."""
    packages = missing_packages(tools)
    if not packages:
        return
    install = f"apt-get install -y --no-install-recommends {' '.join(packages)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise UserError(f"{', '.join(sorted(tools))} not found on PATH", fix=f"run `{install}` as root")
    say(f"installing Debian packages {', '.join(packages)}")
    apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
    fix = f"check that the Debian mirror is reachable and apt is not locked, then run `{install}`"
    run_logged(["apt-get", "update", "-q"], what="apt-get update", log=log, env=apt_env, fix=fix)
    run_logged(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        what=f"installing {', '.join(packages)}",
        log=log,
        env=apt_env,
        fix=fix,
    )
    still = missing_packages(tools)
    if still:
        raise UserError(f"{', '.join(still)} still missing after apt-get install", fix=f"run `{install}`")


def docker_daemon_answers() -> bool:
    """A docker client alone is not enough: CI images often ship one without a daemon."""
    return (
        shutil.which("docker") is not None
        and capture(["docker", "info", "--format", "{{.ID}}"]).returncode == 0
    )


def podman_works() -> bool:
    return (
        shutil.which("podman") is not None
        and capture(["podman", "info", "--format", "{{.Host.Arch}}"]).returncode == 0
    )


def detect_builder(choice: str = "auto") -> Builder:
    """`auto` (or $TASKFLOW_IMAGE_BUILDER) picks docker with a live daemon, then podman, then buildah."""
    wanted = os.environ.get(BUILDER_ENV, "") if choice == "auto" else choice
    if wanted:
        try:
            return Builder(wanted)
        except ValueError:
            names = ", ".join(b.value for b in Builder)
            raise UserError(f"unknown image builder {wanted!r}", fix=f"use auto or one of {names}") from None
    if docker_daemon_answers():
        return Builder.DOCKER
    if podman_works():
        return Builder.PODMAN
    return Builder.BUILDAH
