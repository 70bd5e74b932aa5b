"""The few operations the harness needs from an image builder (buildah, docker or podman)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import UserError

from .host import BUILDAH_TOOLS, Builder, ensure_tools, require_root
from .recipes import BaseRecipe
from .run import capture, run_logged

BUILD_NETWORK_ENV = "TASKFLOW_BUILD_NETWORK"


def prepare(builder: Builder, log: Path) -> None:
    """Make sure the builder can run here; buildah is installed from Debian when missing."""
    if builder is Builder.BUILDAH:
        require_root("building images with buildah")
        ensure_tools(BUILDAH_TOOLS, log)


def image_id(builder: Builder, reference: str) -> str | None:
    """The ID of the image `reference` names in the builder's store, None when it has none."""
    if builder is Builder.BUILDAH:
        argv = ["buildah", "inspect", "--type", "image", "--format", "{{.FromImageID}}", reference]
    else:
        argv = [builder.value, "image", "inspect", "--format", "{{.Id}}", reference]
    proc = capture(argv)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return proc.stdout.strip()


def image_exists(builder: Builder, reference: str) -> bool:
    return image_id(builder, reference) is not None


def ensure_present(builder: Builder, reference: str, archive: Path, log: Path) -> None:
    """Put the archive's image back into the builder's store if it is gone (the archive is the product)."""
    if image_exists(builder, reference):
        return
    if builder is Builder.BUILDAH:
        argv = ["buildah", "pull", "--quiet", f"docker-archive:{archive}"]
    else:
        argv = [builder.value, "load", "--input", str(archive)]
    run_logged(argv, what=f"loading {archive.name} into {builder.value}", log=log)


def remove_image(builder: Builder, image: str) -> None:
    """Best effort: an image still tagged or used by a container stays."""
    capture([builder.value, "rmi", image])


def image_config(builder: Builder, reference: str) -> dict[str, object]:
    """The image's OCI config section (User, Env, Cmd, Entrypoint, WorkingDir, ...)."""
    if builder is Builder.BUILDAH:
        proc = capture(["buildah", "inspect", "--type", "image", reference])
        if proc.returncode != 0:
            raise UserError(f"image {reference} not found in buildah's store", fix="build it first")
        config: dict[str, object] = json.loads(proc.stdout)["OCIv1"]["config"]
        return config
    proc = capture([builder.value, "image", "inspect", reference])
    if proc.returncode != 0:
        raise UserError(f"image {reference} not found in {builder.value}'s store", fix="build it first")
    docker_config: dict[str, object] = json.loads(proc.stdout)[0]["Config"]
    return docker_config


def import_rootfs(builder: Builder, recipe: BaseRecipe, archive: Path, log: Path) -> None:
    """Turn a root filesystem tar into the recipe's image in the builder's store."""
    reference = recipe.reference()
    labels = {
        "org.opencontainers.image.description": recipe.description,
        "org.opencontainers.image.base.name": f"debian:{recipe.suite} (debootstrap minbase)",
        "io.taskflow.base.key": recipe.key(),
    }
    what = f"importing the {recipe.name} base as {reference}"
    if builder is not Builder.BUILDAH:
        changes: list[str] = []
        for entry in recipe.env_list():
            changes += ["--change", f"ENV {entry}"]
        for key, value in labels.items():
            changes += ["--change", f"LABEL {key}={json.dumps(value)}"]
        changes += ["--change", f"CMD {json.dumps(list(recipe.cmd))}"]
        run_logged([builder.value, "import", *changes, str(archive), reference], what=what, log=log)
        return
    container = f"taskflow-base-{recipe.name}-{os.getpid()}"
    capture(["buildah", "rm", container])
    run_logged(
        ["buildah", "from", "--name", container, "scratch"], what="creating a scratch container", log=log
    )
    try:
        # ADD of a local tar unpacks it with the owners, modes and xattrs recorded in it.
        run_logged(["buildah", "add", container, str(archive), "/"], what=what, log=log)
        config: list[str] = ["--cmd", json.dumps(list(recipe.cmd))]
        for entry in recipe.env_list():
            config += ["--env", entry]
        for key, value in labels.items():
            config += ["--label", f"{key}={value}"]
        run_logged(["buildah", "config", *config, container], what="setting the base image config", log=log)
        run_logged(
            ["buildah", "commit", "--rm", "--format", "docker", container, reference],
            what=f"committing {reference}",
            log=log,
        )
    finally:
        capture(["buildah", "rm", container])


def remove_other_tags(builder: Builder, reference: str) -> None:
    """Untag earlier versions of one of our images (same repository, other tag); best effort."""
    repository = reference.rsplit(":", 1)[0]
    if builder is Builder.BUILDAH:
        listing = capture(["buildah", "images", "--format", "{{.Name}}:{{.Tag}}"])
    else:
        listing = capture([builder.value, "images", "--format", "{{.Repository}}:{{.Tag}}"])
    for line in listing.stdout.split():
        if line != reference and line.rsplit(":", 1)[0] == repository:
            capture([builder.value, "rmi", line])


def build(
    builder: Builder,
    *,
    context: Path,
    containerfile: Path,
    reference: str,
    build_args: Mapping[str, str],
    log: Path,
    fix: str | None = None,
) -> float:
    """Build `containerfile` in `context` as `reference`; return the seconds it took."""
    args: list[str] = []
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    # Builds are hermetic: everything they install comes from the prepared context.
    network = os.environ.get(BUILD_NETWORK_ENV, "none")
    if builder is Builder.BUILDAH:
        # No --layers: the archive cache already skips unchanged apps, and layer caching would leave
        # an untagged image per stage and build behind.
        argv = ["buildah", "bud", "--format", "docker", f"--network={network}"]
    else:
        argv = [builder.value, "build", f"--network={network}"]
    argv += [*args, "-f", str(containerfile), "-t", reference, str(context)]
    repository = reference.rsplit(":", 1)[0]  # the tag is a content digest: not the same step twice
    return run_logged(argv, what=f"building {reference}", log=log, fix=fix, step=f"building {repository}")


def save(builder: Builder, reference: str, archive: Path, log: Path) -> None:
    """Write `reference` as a docker-archive tar (what ctr, kind and minikube all import)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    argv: Sequence[str]
    if builder is Builder.BUILDAH:
        argv = ["buildah", "push", reference, f"docker-archive:{partial}:{reference}"]
    else:
        argv = [builder.value, "save", "-o", str(partial), reference]
    run_logged(argv, what=f"exporting {reference}", log=log, step=f"exporting {reference.rsplit(':', 1)[0]}")
    partial.rename(archive)


def run_in_image(builder: Builder, reference: str, command: Sequence[str], *, user: str | None = None) -> str:
    """Run a command in a throwaway container of `reference` and return its output (for checks)."""
    if builder is Builder.BUILDAH:
        container = f"taskflow-check-{os.getpid()}"
        capture(["buildah", "rm", container])
        created = capture(["buildah", "from", "--pull-never", "--name", container, reference])
        if created.returncode != 0:
            raise UserError(f"cannot create a container of {reference}: {created.stderr.strip()}")
        try:
            user_args = ["--user", user] if user else []
            proc = capture(["buildah", "run", "--network=none", *user_args, container, "--", *command])
        finally:
            capture(["buildah", "rm", container])
    else:
        user_args = ["--user", user] if user else []
        proc = capture([builder.value, "run", "--rm", "--network=none", *user_args, reference, *command])
    if proc.returncode != 0:
        raise UserError(f"`{' '.join(command)}` failed in {reference}: {(proc.stdout + proc.stderr).strip()}")
    return proc.stdout
