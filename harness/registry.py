"""`--image-registry REGISTRY`: the images built here, pushed where an external cluster pulls.

skopeo copies each docker-archive to REGISTRY/<name>:<tag> (the `localhost/` prefix dropped) and
then reads it back, so an image the registry did not take stops the run before anything deploys.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.errors import UserError

PUSH_TIMEOUT_SECONDS = 900


def registry_reference(registry: str, reference: str) -> str:
    return f"{registry.rstrip('/')}/{reference.removeprefix('localhost/')}"


def push_commands(archive: Path, target: str) -> list[list[str]]:
    return [
        ["skopeo", "copy", "--quiet", f"docker-archive:{archive}", f"docker://{target}"],
        ["skopeo", "inspect", "--raw", f"docker://{target}"],
    ]


def push(archive: Path, target: str) -> None:
    if shutil.which("skopeo") is None:
        raise UserError(
            "skopeo is not installed (it pushes the images to --image-registry)",
            fix="apt-get install skopeo, or load the images yourself and pass --images-present",
        )
    copy, inspect = push_commands(archive, target)
    for command, what in ((copy, "push"), (inspect, "read back")):
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PUSH_TIMEOUT_SECONDS, check=False
        )
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise UserError(
                f"image {target} is not in the registry ({what} failed: {last[0]})",
                where="--image-registry",
                fix="check the registry's address and that this machine may push to it",
            )
