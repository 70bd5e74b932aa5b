"""Images without a registry: one-layer scratch images written as docker-archive tars, and
their import into containerd's k8s.io namespace."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ClusterError
from .settings import PAUSE_IMAGE

if TYPE_CHECKING:
    from .context import Context

CATATONIT = Path("/usr/bin/catatonit")
# Fixed timestamps keep the tar (and so the image ID) identical across builds.
EPOCH = 0


def _layer(files: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for dest in sorted(files):
            parts = dest.strip("/").split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    info.mtime = EPOCH
                    tar.addfile(info)
            data = files[dest].read_bytes()
            info = tarfile.TarInfo("/".join(parts))
            info.size = len(data)
            info.mode = 0o755
            info.mtime = EPOCH
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def scratch_image(
    name: str,
    files: dict[str, Path],
    entrypoint: list[str],
    out: Path,
    *,
    cmd: list[str] | None = None,
    user: str = "",
    env: list[str] | None = None,
) -> Path:
    """Write a docker-archive tar of a scratch image holding `files` (path in image -> host file)."""
    layer = _layer(files)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Entrypoint": entrypoint,
            "Cmd": cmd or [],
            "Env": env or ["PATH=/"],
            "User": user,
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "harness.cluster.images"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.removeprefix("sha256:") + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [name], "Layers": [layer_name]}]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, mode="w") as tar:
        for member, data in (
            (config_name, config_bytes),
            (layer_name, layer),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = EPOCH
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    tmp.rename(out)
    return out


def pause_image(cache: Path) -> Path:
    out = cache / "images" / "pause-3.10-catatonit.tar"
    if not out.exists():
        if not CATATONIT.exists():
            raise ClusterError(
                f"{CATATONIT} is missing (the pause image is built from it)",
                "apt-get install catatonit",
            )
        scratch_image(PAUSE_IMAGE, {"pause": CATATONIT}, ["/pause", "-P"], out)
    return out


def _ctr(ctx: Context, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "--address", str(ctx.layout.containerd_socket), "-n", "k8s.io", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def image_names(ctx: Context) -> set[str]:
    proc = _ctr(ctx, "images", "ls", "-q")
    return set(proc.stdout.split()) if proc.returncode == 0 else set()


def import_image(ctx: Context, tar: Path) -> None:
    if not tar.is_file():
        raise ClusterError(f"image archive {tar} does not exist", "pass a docker-archive or OCI tar")
    proc = _ctr(ctx, "images", "import", "--local", str(tar))
    if proc.returncode != 0:
        # older/newer ctr spell the flags differently; retry plain
        proc = _ctr(ctx, "images", "import", str(tar))
    if proc.returncode != 0:
        raise ClusterError(
            f"importing {tar} into containerd failed: {proc.stderr.strip()[-600:]}",
            "is the cluster up (`status`)? the tar must be a docker-archive or OCI archive",
            log=ctx.layout.log("containerd"),
        )
    ctx.say(f"image imported: {tar.name}")
