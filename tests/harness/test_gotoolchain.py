"""The Go toolchain fetched from the module proxy when no `go` is on PATH (served here from a
file:// proxy holding a toolchain zip of the same layout)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from harness import gotoolchain
from harness.cluster import build
from harness.cluster.errors import ClusterError
from harness.cluster.paths import Layout
from harness.errors import UserError

FAKE_GO = "#!/bin/sh\necho go version go1.26.8 fake\n"


def _proxy_with_toolchain(tmp_path: Path) -> tuple[Path, str]:
    """A file:// module proxy serving golang.org/toolchain for this platform, and the zip's SHA-256."""
    proxy = tmp_path / "proxy"
    name = f"v0.0.1-go{gotoolchain.GO_VERSION}.{gotoolchain.this_platform()}"
    archive = proxy / "golang.org" / "toolchain" / "@v" / f"{name}.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"golang.org/toolchain@{name}/bin/go", FAKE_GO)
        bundle.writestr(f"golang.org/toolchain@{name}/pkg/tool/linux_amd64/compile", FAKE_GO)
        bundle.writestr(f"golang.org/toolchain@{name}/VERSION", "go1.26.8\n")
    return proxy, hashlib.sha256(archive.read_bytes()).hexdigest()


@pytest.fixture
def no_go_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_without_go_on_path_the_pinned_toolchain_is_fetched_once(
    no_go_on_path: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    proxy, sha256 = _proxy_with_toolchain(tmp_path)
    monkeypatch.setenv("GOPROXY", f"file://{proxy},direct")
    monkeypatch.setitem(gotoolchain.TOOLCHAIN_SHA256, gotoolchain.this_platform(), sha256)
    cache = tmp_path / "cache"
    go = gotoolchain.go_command(cache)
    assert go is not None and Path(go).is_relative_to(cache)
    assert subprocess.run([go], capture_output=True, text=True, check=True).stdout.startswith("go version")
    assert os.access(Path(go).parents[1] / "pkg" / "tool" / "linux_amd64" / "compile", os.X_OK)
    for served in proxy.rglob("*.zip"):
        served.unlink()  # a second call must not download again
    assert gotoolchain.go_command(cache) == go


def test_a_download_that_does_not_match_the_pin_is_refused_and_not_kept(
    no_go_on_path: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    proxy, _ = _proxy_with_toolchain(tmp_path)
    monkeypatch.setenv("GOPROXY", f"file://{proxy}")
    monkeypatch.setitem(gotoolchain.TOOLCHAIN_SHA256, gotoolchain.this_platform(), "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match=r"has SHA-256 [0-9a-f]{64}, not the pinned 0{64}") as raised:
        gotoolchain.go_command(cache)
    assert len(str(raised.value).splitlines()) == 1
    assert not list((cache / "go").glob("go*/bin/go"))


def test_an_unreachable_proxy_is_one_line_with_the_fix(
    no_go_on_path: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOPROXY", f"file://{tmp_path / 'no-proxy-here'}")
    with pytest.raises(UserError, match=r"downloading Go .* failed.*fix: check that the Go module proxy"):
        gotoolchain.go_command(tmp_path / "cache")


def test_go_on_path_is_preferred(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "go").write_text(FAKE_GO)
    (bin_dir / "go").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert gotoolchain.go_command(tmp_path / "cache") == str(bin_dir / "go")
    assert not (tmp_path / "cache").exists()


def test_proxy_is_the_first_url_in_goproxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOPROXY", "direct")
    assert gotoolchain.module_proxy() == "https://proxy.golang.org"
    monkeypatch.setenv("GOPROXY", "https://goproxy.example/,https://proxy.golang.org,direct")
    assert gotoolchain.module_proxy() == "https://goproxy.example"
    url = gotoolchain.toolchain_url("linux-amd64")
    assert url == "https://goproxy.example/golang.org/toolchain/@v/v0.0.1-go1.26.8.linux-amd64.zip"


def test_the_cluster_build_without_any_go_uses_the_pinned_toolchain(
    no_go_on_path: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    proxy, sha256 = _proxy_with_toolchain(tmp_path)
    monkeypatch.setenv("GOPROXY", f"file://{proxy}")
    monkeypatch.setitem(gotoolchain.TOOLCHAIN_SHA256, gotoolchain.this_platform(), sha256)
    monkeypatch.setattr(build, "LOCAL_GO", tmp_path / "no-local-go" / "go")
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    go = build.go_binary(layout)
    assert Path(go).is_relative_to(layout.cache)
    monkeypatch.setenv("GOPROXY", f"file://{tmp_path / 'no-proxy-here'}")
    with pytest.raises(ClusterError, match=r"could not be fetched: downloading Go .* failed") as raised:
        build.go_binary(Layout(state=tmp_path / "state", cache=tmp_path / "cold-cache"))
    assert len(raised.value.render().splitlines()) <= 2
