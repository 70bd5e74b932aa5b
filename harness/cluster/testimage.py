"""The cluster test image: cluster/testimage (a static Go server) in a scratch image."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .build import GoBuild, ensure_built
from .images import scratch_image
from .paths import CLUSTER_SRC, Layout

SOURCE = CLUSTER_SRC / "testimage"


def _version() -> str:
    digest = hashlib.sha256()
    for path in [*sorted(SOURCE.glob("*.go")), SOURCE / "go.mod"]:
        digest.update(path.read_bytes())
    return "0.1.0-" + digest.hexdigest()[:10]


VERSION = _version()
IMAGE = f"localhost/taskflow/cluster-test:{VERSION}"

BUILD = GoBuild(
    name="testimage",
    version=VERSION,
    module_dir=SOURCE,
    packages={"testimage": "taskflow.local/cluster/testimage"},
    ldflags=["-s", "-w"],
    env={"CGO_ENABLED": "0"},
)


def image_tar(layout: Layout) -> Path:
    """Build (if needed) and return the docker-archive tar of the test image."""
    out = layout.images / f"cluster-test-{VERSION}.tar"
    if not out.exists():
        out_dir = ensure_built(BUILD, layout)
        scratch_image(
            IMAGE,
            {"testimage": out_dir / "testimage"},
            entrypoint=["/testimage"],
            cmd=["serve"],
            user="10001:10001",
            out=out,
        )
    return out
