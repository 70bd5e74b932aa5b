"""The Go toolchain for the pinned tools, on a machine that has none: Go's own release as the Go
module proxy serves it to `GOTOOLCHAIN` switching (module golang.org/toolchain), fetched once into
the version-keyed cache and checked against the SHA-256 pinned here.

So `nox -s tests` on a fresh machine builds kustomize, kube-score and actionlint without anyone
installing Go first; a `go` on PATH is always preferred.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from harness.errors import UserError
from harness.locks import held

GO_VERSION = "1.26.8"
# SHA-256 of golang.org/toolchain@v0.0.1-go<GO_VERSION>.<platform>.zip, read from the proxy once.
TOOLCHAIN_SHA256 = {"linux-amd64": "30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7"}
GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
DEFAULT_PROXY = "https://proxy.golang.org"
READ_TIMEOUT_SECONDS = 60
CHUNK_BYTES = 1 << 20
INSTALL_GO = "install Go 1.26 or newer and put `go` on PATH"


def this_platform() -> str:
    return f"{sys.platform}-{GOARCH.get(platform.machine().lower(), platform.machine().lower())}"


def module_proxy() -> str:
    """The first proxy URL in GOPROXY (Go's own default when unset)."""
    for entry in os.environ.get("GOPROXY", DEFAULT_PROXY).replace("|", ",").split(","):
        if "://" in entry:
            return entry.rstrip("/")
    return DEFAULT_PROXY


def toolchain_url(platform_name: str, version: str = GO_VERSION) -> str:
    return f"{module_proxy()}/golang.org/toolchain/@v/v0.0.1-go{version}.{platform_name}.zip"


def go_command(cache: Path) -> str | None:
    """`go` on PATH, else the pinned toolchain under cache (fetched on first use); None when
    neither can be had here (no pinned toolchain for this platform)."""
    on_path = shutil.which("go")
    if on_path is not None:
        return on_path
    platform_name = this_platform()
    expected = TOOLCHAIN_SHA256.get(platform_name)
    if expected is None:
        return None
    root = cache / "go" / f"go{GO_VERSION}.{platform_name}"
    go = root / "bin" / "go"
    if not os.access(go, os.X_OK):
        with held(root.parent / f".go{GO_VERSION}.{platform_name}.lock", f"the download of Go {GO_VERSION}"):
            if not os.access(go, os.X_OK):
                fetch_toolchain(toolchain_url(platform_name), expected, root)
    return str(go)


def fetch_toolchain(url: str, expected_sha256: str, root: Path) -> None:
    print(f"downloading Go {GO_VERSION} from the Go module proxy (once): {url}", file=sys.stderr, flush=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=".go-download-") as scratch:
        archive = Path(scratch) / "toolchain.zip"
        digest = hashlib.sha256()
        try:
            with (
                urllib.request.urlopen(url, timeout=READ_TIMEOUT_SECONDS) as answer,
                archive.open("wb") as out,
            ):
                while chunk := answer.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError) as error:
            raise UserError(
                f"downloading Go {GO_VERSION} failed: {error}",
                where=url,
                fix=f"check that the Go module proxy (GOPROXY) answers, or {INSTALL_GO}",
            ) from None
        if digest.hexdigest() != expected_sha256:
            raise UserError(
                f"the Go {GO_VERSION} download has SHA-256 {digest.hexdigest()},"
                f" not the pinned {expected_sha256}",
                where=url,
                fix=f"check what GOPROXY points at, or {INSTALL_GO}",
            )
        unpacked = Path(scratch) / "unpacked"
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(unpacked)
        (goroot,) = unpacked.glob("golang.org/toolchain@*")
        # module zips keep no file modes: mark what Go runs as executable, as `go` itself does
        for executable in [*goroot.glob("bin/*"), *goroot.glob("pkg/tool/*/*")]:
            executable.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)  # a damaged earlier copy
        os.replace(goroot, root)
