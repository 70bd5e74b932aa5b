"""Released binaries instead of a Go build, when the host reaches the release hosts.

Each file is checked against its SHA-256 pinned in the repo (releases.py) before anything of it
is kept; the binaries land in the build's own cache directory with the same stamp a build leaves
(build.json), so nothing downstream can tell, except origin.json beside them, which names the
files they came from. When the download is off, not pinned, unreachable, slow or wrong, one line
says which and why and the caller compiles as before.
"""

from __future__ import annotations

import json
import shutil
import struct
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import build_record, fetch, releases

if TYPE_CHECKING:
    from .build import GoBuild
    from .paths import Layout

ORIGIN_NAME = "origin.json"
FALLBACK = "building from the Go module proxy instead"
NOT_PINNED = "not pinned:"

# Per process: a build whose download was declined is not tried (or reported) again, and a host
# that did not answer is not asked for its other files.
_declined: dict[str, str] = {}
_unreachable: dict[str, str] = {}


def forget() -> None:
    """Try every download again (tests; a long-lived process after the network came back)."""
    _declined.clear()
    _unreachable.clear()


def _say(message: str) -> None:
    print(f"[download] {message}", file=sys.stderr, flush=True)


def applies(build: GoBuild) -> bool:
    """Upstream publishes this build's binaries at its pinned version."""
    release = releases.release_for(build.name, build.version)
    return release is not None and release.binaries == set(build.packages)


def install(build: GoBuild, layout: Layout, out: Path) -> bool:
    """Put the released binaries of build into out; False (after one line saying why) when the
    caller has to compile them. The caller holds the build's lock."""
    if build.cache_key in _declined or not applies(build):
        return False
    release = releases.release_for(build.name, build.version)
    assert release is not None  # applies() checked it
    try:
        _install(build, release, out)
    except _DeclinedError as declined:
        why = str(declined)
        # the same long reason for every build of a cold start is said in full once
        said = why.startswith(NOT_PINNED) and any(w.startswith(NOT_PINNED) for w in _declined.values())
        _declined[build.cache_key] = why
        if said:
            _say(f"{build.name} {build.version}: not pinned either; {FALLBACK}")
        else:
            _say(f"{build.name} {build.version}: released binaries not used: {why}; {FALLBACK}")
        return False
    return True


class _DeclinedError(Exception):
    """Why the released binaries are not used: '<which>: <why>'."""


def _install(build: GoBuild, release: releases.Release, out: Path) -> None:
    mode = fetch.setting()
    if mode == "off":
        raise _DeclinedError(f"downloads are off ({fetch.ENV}=off)")
    pins = releases.load_pins()
    unpinned = [artifact.file_name for artifact in release.artifacts if not pins.get(artifact.url)]
    if unpinned:
        raise _DeclinedError(
            f"{NOT_PINNED} no SHA-256 for {', '.join(unpinned)} in "
            f"{releases.PINS_FILE.relative_to(releases.PINS_FILE.parents[1])} (fill it on a host "
            "that reaches the release hosts: python -m harness.cluster pin-releases)"
        )
    for artifact in release.artifacts:
        host = fetch.host_of(fetch.source_url(artifact.url))
        if host in _unreachable:
            raise _DeclinedError(f"unreachable: {_unreachable[host]} (earlier in this run)")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        origin = _fetch_all(build, release, pins, tmp)
        build_record.write_stamp(tmp, list(build.packages))
        (tmp / ORIGIN_NAME).write_text(json.dumps(origin, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except BaseException:
        # nothing of a refused or interrupted download is kept, so it can never be run
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _fetch_all(
    build: GoBuild, release: releases.Release, pins: dict[str, str | None], tmp: Path
) -> dict[str, object]:
    hosts = sorted({fetch.host_of(fetch.source_url(artifact.url)) for artifact in release.artifacts})
    count = len(release.binaries)
    announced: list[bool] = []

    def announce() -> None:
        # only once a host answered: a host that does not gets the one fallback line, nothing more
        if not announced:
            announced.append(True)
            _say(
                f"{build.name} {build.version}: fetching {count} released binar"
                f"{'ies' if count > 1 else 'y'} from {', '.join(hosts)}, each checked against its "
                "pinned SHA-256 (no Go build)"
            )

    started = time.monotonic()
    files: dict[str, str] = {}
    scratch = tmp / ".download"
    scratch.mkdir()
    for artifact in release.artifacts:
        url = fetch.source_url(artifact.url)
        pinned = pins[artifact.url]
        target = scratch / artifact.file_name
        began = time.monotonic()
        try:
            digest, size = fetch.download(url, target, announce)
        except fetch.FetchError as error:
            if error.unreachable:
                _unreachable[fetch.host_of(url)] = str(error)
                raise _DeclinedError(f"unreachable: {error}") from None
            raise _DeclinedError(f"download failed: {error}") from None
        if digest != pinned:
            raise _DeclinedError(
                f"failed verification: {artifact.file_name} has SHA-256 {digest}, "
                f"pinned {pinned}; nothing kept"
            )
        _extract(artifact, target, tmp)
        if build.env.get("CGO_ENABLED") == "0":
            for binary in artifact.members:
                _require_static(tmp / binary)
        files[artifact.url] = digest
        took = build_record.format_duration(time.monotonic() - began)
        _say(f"{artifact.file_name}: {size / 1e6:.1f} MB in {took}, SHA-256 ok")
    shutil.rmtree(scratch)
    took = build_record.format_duration(time.monotonic() - started)
    _say(f"{build.name} {build.version}: released binaries in {took}")
    return {
        "source": "released binaries (downloaded, SHA-256 checked against cluster/release-checksums.json)",
        "fetched": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": files,
        "from": {artifact.url: fetch.source_url(artifact.url) for artifact in release.artifacts},
    }


def _extract(artifact: releases.Artifact, downloaded: Path, tmp: Path) -> None:
    for binary, member in artifact.members.items():
        dest = tmp / binary
        if member == "":
            downloaded.replace(dest)
        else:
            try:
                with tarfile.open(downloaded) as archive:
                    entry = archive.getmember(member)
                    stream = archive.extractfile(entry) if entry.isfile() else None
                    if stream is None:
                        raise _DeclinedError(
                            f"unexpected archive: {artifact.file_name} holds no file {member}"
                        )
                    with stream, dest.open("wb") as target:
                        shutil.copyfileobj(stream, target)
            except (KeyError, tarfile.TarError, OSError) as error:
                raise _DeclinedError(f"unexpected archive: {artifact.file_name}: {member}: {error}") from None
        dest.chmod(0o755)


PT_INTERP = 3


def _require_static(binary: Path) -> None:
    """A build compiled with CGO_ENABLED=0 is static (the add-ons also go into scratch images): a
    released binary that asks for a dynamic loader is not the same thing and is refused."""
    with binary.open("rb") as stream:
        header = stream.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            raise _DeclinedError(f"not static: {binary.name} is not a 64-bit little-endian ELF executable")
        (table,) = struct.unpack_from("<Q", header, 0x20)
        entry_size, count = struct.unpack_from("<HH", header, 0x36)
        stream.seek(table)
        entries = stream.read(entry_size * count)
    for index in range(count):
        (kind,) = struct.unpack_from("<I", entries, index * entry_size)
        if kind == PT_INTERP:
            raise _DeclinedError(
                f"not static: {binary.name} needs a dynamic loader, and this build is CGO_ENABLED=0"
            )
