"""Root filesystems from Debian packages: debootstrap, trim, and pack as a builder-neutral tar."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from harness.errors import UserError

from .host import BASE_TOOLS, ensure_tools, require_root
from .paths import ImagePaths
from .recipes import COMMON_TRIM, DEFAULT_MIRROR, DOC_DIR, BaseRecipe
from .run import capture, run_logged, say

MIRROR_ENV = "TASKFLOW_DEBIAN_MIRROR"
# Keeps docs out if an app's Containerfile installs more Debian packages on top of a base.
DPKG_NODOC = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
"""


def rootfs_archive(recipe: BaseRecipe, paths: ImagePaths) -> Path:
    return paths.bases / f"{recipe.name}-{recipe.suite}-{recipe.key()[:16]}.tar"


def mounts_under(directory: Path) -> list[Path]:
    """Mount points at or below `directory` (debootstrap mounts /proc and /sys in its target)."""
    target = directory.resolve()
    found: list[Path] = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" ")
        if len(fields) < 5:
            continue
        # mountinfo escapes space, tab, newline and backslash as octal
        point = Path(fields[4].encode().decode("unicode_escape"))
        if point == target or target in point.parents:
            found.append(point)
    return found


def remove_tree(directory: Path) -> None:
    """rm -r that refuses to walk into a mount point (a crashed debootstrap can leave /proc mounted)."""
    if not directory.exists():
        return
    mounted = mounts_under(directory)
    if mounted:
        raise UserError(
            f"{directory} still has mounts from an interrupted build: {', '.join(map(str, mounted))}",
            fix=f"umount -R {directory} && rm -rf {directory}",
        )
    shutil.rmtree(directory)


def _inside(rootfs: Path, path: Path) -> bool:
    """True when `path`'s parent resolves inside rootfs: a symlinked directory must not lead out."""
    return path.parent.resolve() == rootfs or rootfs in path.parent.resolve().parents


def trim_rootfs(rootfs: Path, patterns: Iterable[str]) -> None:
    """Delete what an image never needs; licences (usr/share/doc/*/copyright) stay."""
    rootfs = rootfs.resolve()
    for pattern in patterns:
        for path in rootfs.glob(pattern):
            if not _inside(rootfs, path):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    docs = rootfs / DOC_DIR
    if docs.is_dir():
        for package_doc in docs.iterdir():
            if package_doc.is_symlink() or not package_doc.is_dir():
                continue
            for entry in package_doc.iterdir():
                if entry.name == "copyright":
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
    nodoc = rootfs / "etc/dpkg/dpkg.cfg.d/taskflow-nodoc"
    nodoc.parent.mkdir(parents=True, exist_ok=True)
    nodoc.write_text(DPKG_NODOC)
    machine_id = rootfs / "etc/machine-id"
    if machine_id.exists():
        machine_id.write_text("")


def installed_packages(rootfs: Path) -> dict[str, str]:
    proc = capture(
        ["dpkg-query", f"--admindir={rootfs / 'var/lib/dpkg'}", "-W", "-f", "${Package}\t${Version}\n"]
    )
    return dict(line.split("\t", 1) for line in proc.stdout.splitlines() if "\t" in line)


def ensure_rootfs(recipe: BaseRecipe, paths: ImagePaths, mirror: str | None = None) -> Path:
    """The recipe's root filesystem tar, from the cache or built now (debootstrap needs root)."""
    archive = rootfs_archive(recipe, paths)
    if archive.is_file():
        return archive
    require_root(f"building the {recipe.name} base image")
    log = paths.logs / f"base-{recipe.name}.log"
    log.unlink(missing_ok=True)
    ensure_tools(BASE_TOOLS, log)
    work = paths.work / f"base-{recipe.name}-{recipe.key()[:12]}"
    remove_tree(work)
    rootfs = work / "rootfs"
    rootfs.parent.mkdir(parents=True)
    started = time.monotonic()
    run_logged(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(recipe.packages)}",
            recipe.suite,
            str(rootfs),
            mirror or os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR,
        ],
        what=f"debootstrap {recipe.name} base ({recipe.suite}: {', '.join(recipe.packages)})",
        log=log,
        step=f"debootstrap {recipe.name} base",
        fix=f"check the Debian mirror (${MIRROR_ENV}) is reachable and the package names exist",
    )
    leftover = mounts_under(rootfs)
    if leftover:
        raise UserError(
            f"debootstrap left mounts under {rootfs}: {', '.join(map(str, leftover))}",
            fix=f"umount -R {rootfs}",
        )
    packages = installed_packages(rootfs)
    trim_rootfs(rootfs, (*COMMON_TRIM, *recipe.trim))
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_suffix(".partial")
    run_logged(
        [
            "tar",
            "--numeric-owner",
            "--xattrs",
            "--xattrs-include=*",
            "-C",
            str(rootfs),
            "-cf",
            str(partial),
            ".",
        ],
        what=f"packing the {recipe.name} root filesystem",
        log=log,
    )
    seconds = round(time.monotonic() - started, 1)
    size = partial.stat().st_size
    metadata = {
        "reference": recipe.reference(),
        "key": recipe.key(),
        "suite": recipe.suite,
        "packages": packages,
        "seconds": seconds,
        "bytes": size,
    }
    archive.with_suffix(".json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    partial.rename(archive)
    remove_tree(work)
    for stale in archive.parent.glob(f"{recipe.name}-*.tar"):
        if stale != archive:  # an earlier recipe of the same base; nothing refers to it any more
            stale.unlink()
            stale.with_suffix(".json").unlink(missing_ok=True)
    say(f"{recipe.name} root filesystem: {size / 1e6:.0f} MB in {seconds} s")
    return archive
