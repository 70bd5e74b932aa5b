"""What a finished build leaves beside its binaries, and what past builds took on this machine.

Two small files in the cache:
- `<out>/build.json` per build: size and sha256 of each binary. A binary whose size or mtime no
  longer matches is hashed again; one whose hash differs is corrupt and gets rebuilt, never run.
- `build-times.json` for the whole cache: wall and CPU seconds of the last build of each
  component, so a cold run can say how long it will take here instead of quoting a guess.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STAMP_NAME = "build.json"
TIMES_NAME = "build-times.json"
HASH_CHUNK = 1 << 20

# Wall seconds on this 2-core host with an empty Go build cache (cluster/README.md,
# HOST-NOTES.md); used only until this machine has a figure of its own. The three add-ons of the
# shared module are built in this order: metrics-server compiles most of what they share
# (client-go, apimachinery, grpc, ...), so the provisioner after it is seconds, not 3 minutes
# (measured 2026-11-29 under nice 19 on a busy host: 346 s, 9 s, 533 s).
REFERENCE_WALL_SECONDS: dict[str, float] = {
    "kubernetes": 7 * 60,
    "etcd": 90,
    "coredns": 4.7 * 60,
    "metrics-server": 5.8 * 60,
    "hostpath-provisioner": 10,
    "traefik": 8.9 * 60,
    "testimage": 30,
}
UNKNOWN_COMPONENT_SECONDS = 120.0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(payload, stream, indent=1, sort_keys=True)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _file_entry(path: Path) -> dict[str, Any]:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": _sha256(path)}


def write_stamp(out_dir: Path, binaries: list[str]) -> None:
    """Record size, mtime and sha256 of each binary of a finished build."""
    _write_atomically(out_dir / STAMP_NAME, {name: _file_entry(out_dir / name) for name in binaries})


def damaged_binaries(out_dir: Path, binaries: list[str]) -> list[str]:
    """Binaries that are missing, or whose content no longer matches the build's stamp.

    A build without a stamp (made before stamps existed) is trusted once and stamped now, so
    a warm cache is not rebuilt for lack of a file. Hashing happens only when size or mtime
    changed, which keeps a warm `up` at one stat() per binary.
    """
    missing = [name for name in binaries if not (out_dir / name).is_file()]
    if missing:
        return missing
    stamp = _read_json(out_dir / STAMP_NAME)
    if stamp is None:
        write_stamp(out_dir, binaries)
        return []
    damaged = []
    for name in binaries:
        if not _matches(out_dir / name, stamp.get(name)):
            damaged.append(name)
    return damaged


def _matches(path: Path, recorded: object) -> bool:
    if not isinstance(recorded, dict):
        return False
    info = path.stat()
    if recorded.get("size") != info.st_size:
        return False
    return recorded.get("mtime_ns") == info.st_mtime_ns or _sha256(path) == recorded.get("sha256")


@dataclass(frozen=True)
class Estimate:
    seconds: float
    source: str  # "measured here <date>" or "reference figure"

    @property
    def measured(self) -> bool:
        return self.source.startswith("measured here")

    def describe(self) -> str:
        return f"~{format_duration(self.seconds)} ({self.source})"


def format_duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest:02d}s"


def estimate(cache: Path, component: str) -> Estimate:
    """How long building `component` is likely to take on this machine."""
    times = _read_json(cache / TIMES_NAME) or {}
    measured = times.get(component)
    if isinstance(measured, dict) and isinstance(measured.get("wall_seconds"), (int, float)):
        return Estimate(float(measured["wall_seconds"]), f"measured here {measured.get('measured', '?')}")
    return Estimate(
        REFERENCE_WALL_SECONDS.get(component, UNKNOWN_COMPONENT_SECONDS), "reference figure, 2 cores"
    )


def record_time(cache: Path, component: str, wall_seconds: float, cpu_seconds: float) -> None:
    """Remember what this build took, for the next cold run's estimate."""
    path = cache / TIMES_NAME
    times = _read_json(path) or {}
    times[component] = {
        "wall_seconds": round(wall_seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "measured": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    _write_atomically(path, times)
