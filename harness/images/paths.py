"""Where image work happens: a cache outside the repo, so a fresh clone reuses earlier builds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    base = os.environ.get("TASKFLOW_CACHE") or str(Path.home() / ".cache" / "taskflow")
    return Path(base) / "images"


@dataclass(frozen=True)
class ImagePaths:
    """Every directory of the image cache, derived from one root."""

    root: Path

    @classmethod
    def default(cls) -> ImagePaths:
        return cls(cache_root())

    @property
    def bases(self) -> Path:
        """Base root filesystems as tars, one per recipe key; builder-neutral."""
        return self.root / "bases"

    @property
    def apps(self) -> Path:
        """App images as docker-archive tars, one per input hash."""
        return self.root / "apps"

    @property
    def work(self) -> Path:
        """Scratch space for one build (debootstrap targets, build contexts); safe to delete."""
        return self.root / "work"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def tools(self) -> Path:
        """Helper environments (a pip for hosts whose harness venv has none)."""
        return self.root / "tools"
