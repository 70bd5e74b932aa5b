"""Released binaries instead of a Go build: served here by a local HTTP server laid out as the
release hosts are (TASKFLOW_CLUSTER_DOWNLOADS=<mirror>), checksums good and bad; the fallback is
a real `go build` of a tiny module."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cluster import build, build_record, fetch, prebuilt, releases
from harness.cluster.paths import Layout


@dataclass
class ReleaseHost:
    url: str  # the mirror's base URL
    root: Path  # what it serves: <root>/<official host>/<official path>
    requests: list[str]

    def put(self, official_url: str, data: bytes) -> str:
        """Serve data where the mirror answers for official_url; return its SHA-256."""
        parts = urllib.parse.urlsplit(official_url)
        path = self.root / parts.netloc / parts.path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return hashlib.sha256(data).hexdigest()


@pytest.fixture
def release_host(tmp_path: Path) -> Iterator[ReleaseHost]:
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            requests.append(self.path)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ReleaseHost(f"http://127.0.0.1:{server.server_address[1]}", root, requests)
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fresh_download_memory() -> Iterator[None]:
    prebuilt.forget()
    yield
    prebuilt.forget()


@pytest.fixture
def pins_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "release-checksums.json"
    releases.write_pins(dict.fromkeys(releases.pinned_urls()), path)
    monkeypatch.setattr(releases, "PINS_FILE", path)
    return path


def _pin(pins_file: Path, pins: dict[str, str]) -> None:
    current = releases.load_pins(pins_file)
    current.update(pins)
    releases.write_pins(current, pins_file)


def _script(name: str) -> bytes:
    return f"#!/bin/sh\necho released {name}\n".encode()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _no_go_build(*_: object) -> Path:
    raise AssertionError("a Go build ran although the released binaries were there")


def test_released_kubernetes_and_etcd_land_in_their_build_cache_dirs_stamped_without_a_go_build(
    release_host: ReleaseHost,
    pins_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(fetch.ENV, release_host.url)
    monkeypatch.setattr(build, "_build", _no_go_build)
    arch = releases.host_arch()
    pins: dict[str, str] = {}
    for name in build.KUBERNETES.packages:
        url = f"https://dl.k8s.io/release/{build.KUBERNETES.version}/bin/linux/{arch}/{name}"
        pins[url] = release_host.put(url, _script(name))
    (etcd,) = releases.all_releases(arch)["etcd"].artifacts
    top = f"etcd-{build.ETCD.version}-linux-{arch}"
    pins[etcd.url] = release_host.put(
        etcd.url, _tar_gz({f"{top}/etcd": _script("etcd"), f"{top}/etcdctl": _script("etcdctl")})
    )
    _pin(pins_file, pins)
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")

    build.fetch_released([build.KUBERNETES, build.ETCD], layout)
    build.announce_cold_builds([build.KUBERNETES, build.ETCD], layout)  # nothing left to compile
    err = capsys.readouterr().err
    assert "kubernetes v1.34.4: fetching 6 released binaries" in err
    assert "etcd v3.6.5: fetching 1 released binary" in err
    assert "cold cache" not in err
    for b in (build.KUBERNETES, build.ETCD):
        out = build.ensure_built(b, layout)
        assert out.name == b.cache_key  # the very directory a build would have made
        assert b.damaged(layout) == []
        assert (out / build_record.STAMP_NAME).is_file()
        assert not out.with_name(out.name + ".partial").exists()
        origin = json.loads((out / prebuilt.ORIGIN_NAME).read_text())
        assert set(origin["sha256"]) <= set(pins)
    assert sorted(p.name for p in (layout.bin_root / "etcd-v3.6.5").iterdir()) == [
        "build.json",
        "etcd",
        "origin.json",
    ]
    ran = subprocess.run([str(build.ETCD.binary(layout, "etcd"))], capture_output=True, text=True, check=True)
    assert ran.stdout == "released etcd\n"
    assert "reference" in build_record.estimate(layout.cache, "kubernetes").source  # no build time recorded

    # a corrupt cached binary is fetched again, never run
    build.KUBERNETES.binary(layout, "kubelet").write_bytes(b"\0" * 8)
    build.ensure_built(build.KUBERNETES, layout)
    assert "fetching 6 released binaries" in capsys.readouterr().err
    assert build.KUBERNETES.damaged(layout) == []


@pytest.fixture
def hello(
    tmp_path: Path, hello_go_build: build.GoBuild, monkeypatch: pytest.MonkeyPatch
) -> tuple[build.GoBuild, Layout, releases.Artifact]:
    """The real one-file Go module, with an upstream release of it at releases.example.test."""
    artifact = releases.Artifact(
        "https://releases.example.test/hello/v1/hello_linux.tar.gz", None, {"hello": "hello"}
    )
    monkeypatch.setattr(
        releases, "all_releases", lambda arch: {"hello": releases.Release("hello", "v1", (artifact,))}
    )
    return hello_go_build, Layout(state=tmp_path / "state", cache=tmp_path / "cache"), artifact


def _ran_go_build(out: Path) -> None:
    binary = out / "hello"
    assert binary.read_bytes()[:4] == b"\x7fELF"  # compiled here, not the served script
    ran = subprocess.run([str(binary)], capture_output=True, text=True, check=True)
    assert ran.stderr.strip() == "hello"
    assert not (out / prebuilt.ORIGIN_NAME).exists()
    assert "measured here" in build_record.estimate(out.parents[1], "hello").source


def _download_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("[download]")]


def test_a_checksum_mismatch_is_refused_and_the_binary_compiled(
    hello: tuple[build.GoBuild, Layout, releases.Artifact],
    release_host: ReleaseHost,
    pins_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_build, layout, artifact = hello
    monkeypatch.setenv(fetch.ENV, release_host.url)
    served = release_host.put(artifact.url, _tar_gz({"hello": _script("hello, tampered")}))
    pinned = hashlib.sha256(b"what upstream published").hexdigest()
    _pin(pins_file, {artifact.url: pinned})

    out = build.ensure_built(hello_build, layout)
    lines = _download_lines(capsys.readouterr().err)
    assert release_host.requests == ["/releases.example.test/hello/v1/hello_linux.tar.gz"]
    assert lines[-1] == (
        f"[download] hello v1: released binaries not used: failed verification: hello_linux.tar.gz "
        f"has SHA-256 {served}, pinned {pinned}; nothing kept; building from the Go module proxy instead"
    )
    _ran_go_build(out)


def test_an_unreachable_host_falls_back_at_once_with_one_line(
    hello: tuple[build.GoBuild, Layout, releases.Artifact],
    pins_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_build, layout, artifact = hello
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(fetch.ENV, f"http://127.0.0.1:{port}")
    _pin(pins_file, {artifact.url: hashlib.sha256(b"x").hexdigest()})

    started = time.monotonic()
    assert not prebuilt.install(hello_build, layout, hello_build.out_dir(layout))
    assert time.monotonic() - started < fetch.TIMEOUT_SECONDS  # refused: no waiting for a timeout
    out = build.ensure_built(hello_build, layout)  # declined once: compiled without asking again
    lines = _download_lines(capsys.readouterr().err)
    assert lines == [
        f"[download] hello v1: released binaries not used: unreachable: 127.0.0.1:{port}: connection "
        "refused; building from the Go module proxy instead"
    ]
    _ran_go_build(out)


def test_a_host_that_never_answers_times_out_in_seconds_and_is_not_asked_again(
    hello: tuple[build.GoBuild, Layout, releases.Artifact],
    pins_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_build, layout, artifact = hello
    monkeypatch.setattr(fetch, "TIMEOUT_SECONDS", 0.5)
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv(fetch.ENV, f"http://127.0.0.1:{silent.getsockname()[1]}")
        _pin(pins_file, {artifact.url: hashlib.sha256(b"x").hexdigest()})
        assert not prebuilt.install(hello_build, layout, hello_build.out_dir(layout))
        other = dataclasses.replace(hello_build, key_has_inputs_digest=True)  # same release, other key
        assert not prebuilt.install(other, layout, other.out_dir(layout))
    lines = _download_lines(capsys.readouterr().err)
    assert "released binaries not used: unreachable: 127.0.0.1" in lines[-2]
    assert "no answer within 0.5 s; building from the Go module proxy instead" in lines[-2]
    assert lines[-1].endswith(
        "no answer within 0.5 s (earlier in this run); building from the Go module proxy instead"
    )
    assert not hello_build.out_dir(layout).with_name("hello-v1.partial").exists()


def test_no_pin_or_downloads_off_asks_no_host(
    hello: tuple[build.GoBuild, Layout, releases.Artifact],
    release_host: ReleaseHost,
    pins_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_build, layout, artifact = hello
    release_host.put(artifact.url, _tar_gz({"hello": _script("hello")}))
    monkeypatch.setenv(fetch.ENV, release_host.url)
    assert not prebuilt.install(hello_build, layout, hello_build.out_dir(layout))
    assert (
        "released binaries not used: not pinned: no SHA-256 for hello_linux.tar.gz" in capsys.readouterr().err
    )
    prebuilt.forget()
    _pin(pins_file, {artifact.url: hashlib.sha256(b"x").hexdigest()})
    monkeypatch.setenv(fetch.ENV, "off")
    assert not prebuilt.install(hello_build, layout, hello_build.out_dir(layout))
    assert (
        "released binaries not used: downloads are off (TASKFLOW_CLUSTER_DOWNLOADS=off)"
        in capsys.readouterr().err
    )
    assert release_host.requests == []


def test_a_cold_start_says_the_long_not_pinned_reason_once(
    hello: tuple[build.GoBuild, Layout, releases.Artifact],
    release_host: ReleaseHost,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_build, layout, _ = hello
    monkeypatch.setenv(fetch.ENV, release_host.url)
    other = dataclasses.replace(hello_build, key_has_inputs_digest=True)
    for each in (hello_build, other):
        assert not prebuilt.install(each, layout, each.out_dir(layout))
    first, second = capsys.readouterr().err.splitlines()
    assert "released binaries not used: not pinned: no SHA-256 for hello_linux.tar.gz" in first
    assert second == f"[download] hello v1: not pinned either; {prebuilt.FALLBACK}"


def test_pin_releases_fills_from_upstream_checksum_files_and_keeps_a_disagreeing_pin(
    release_host: ReleaseHost,
    pins_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(fetch.ENV, release_host.url)
    expected: dict[str, str] = {}
    checksum_files: dict[str, list[str]] = {}
    for arch in releases.PIN_ARCHES:
        for release in releases.all_releases(arch).values():
            for artifact in release.artifacts:
                expected[artifact.url] = release_host.put(artifact.url, artifact.url.encode())
                if artifact.checksum_url is not None:
                    checksum_files.setdefault(artifact.checksum_url, []).append(
                        f"{expected[artifact.url]}  {artifact.file_name}"
                    )
    for url, lines in checksum_files.items():
        bare = url.startswith("https://dl.k8s.io/")  # Kubernetes' .sha256 files hold the digest only
        release_host.put(
            url, ("\n".join(line.split()[0] if bare else line for line in lines) + "\n").encode()
        )
    kept = releases.all_releases("amd64")["traefik"].artifacts[0].url
    _pin(pins_file, {kept: "0" * 64})

    problems = releases.fill_pins()
    assert problems == [f"{kept}: pinned {'0' * 64}, upstream now says {expected[kept]}; kept the pin"]
    assert releases.load_pins() == {**expected, kept: "0" * 64}
    assert "hashed from the download" in capsys.readouterr().err  # metrics-server: no checksum file


@pytest.mark.parametrize(
    ("text", "digest"),
    [
        ("a" * 64 + "\n", "a" * 64),
        ("b" * 64 + "  other.tgz\n" + "c" * 64 + "  f.tgz\n", "c" * 64),
        ("D" * 64 + " *f.tgz\n", "d" * 64),
        ("e" * 64 + "  other.tgz\n", None),
        ("not a digest\n", None),
    ],
)
def test_checksum_files_are_read_in_upstream_formats(text: str, digest: str | None) -> None:
    assert releases.digest_from_checksum_file(text, "f.tgz") == digest


def test_the_repo_pins_every_released_file_of_the_exact_versions_built() -> None:
    pins = releases.load_pins()
    assert sorted(pins) == releases.pinned_urls()
    assert all(value is None or releases.SHA256_HEX.match(value) for value in pins.values())
    by_name = {b.name: b for b in build.all_builds()}
    for arch in releases.PIN_ARCHES:
        published = releases.all_releases(arch)
        assert set(published) == {"kubernetes", "etcd", "coredns", "metrics-server", "traefik"}
        for name, release in published.items():
            assert release.version == by_name[name].version
            assert release.binaries == set(by_name[name].packages)
    assert prebuilt.applies(by_name["kubernetes"])
    assert not prebuilt.applies(by_name["hostpath-provisioner"])  # ours: always compiled
    assert not prebuilt.applies(by_name["testimage"])


def test_a_file_the_host_does_not_have_is_one_line_too(
    hello: tuple[build.GoBuild, Layout, releases.Artifact],
    release_host: ReleaseHost,
    pins_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_build, layout, artifact = hello
    monkeypatch.setenv(fetch.ENV, release_host.url)
    _pin(pins_file, {artifact.url: hashlib.sha256(b"x").hexdigest()})
    assert not prebuilt.install(hello_build, layout, hello_build.out_dir(layout))
    (line,) = _download_lines(capsys.readouterr().err)
    assert "released binaries not used: download failed: " in line
    assert "/releases.example.test/hello/v1/hello_linux.tar.gz: HTTP 404" in line
    assert not hello_build.out_dir(layout).exists()


def test_a_dynamically_linked_release_of_a_static_build_is_refused(
    hello: tuple[build.GoBuild, Layout, releases.Artifact],
    release_host: ReleaseHost,
    pins_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hello_build, layout, artifact = hello
    static_build = dataclasses.replace(hello_build, env={"CGO_ENABLED": "0"})
    monkeypatch.setenv(fetch.ENV, release_host.url)
    dynamic = Path(shutil.which("true") or "/bin/true").read_bytes()  # Debian's: needs ld-linux
    _pin(pins_file, {artifact.url: release_host.put(artifact.url, _tar_gz({"hello": dynamic}))})
    assert not prebuilt.install(static_build, layout, static_build.out_dir(layout))
    assert "released binaries not used: not static: hello needs a dynamic loader" in capsys.readouterr().err
    assert not static_build.out_dir(layout).exists()

    prebuilt.forget()
    out = build.ensure_built(static_build, layout)  # compiled: Go's own static binary
    _ran_go_build(out)
    prebuilt._require_static(out / "hello")  # the check passes a static binary
