"""What upstream publishes of the cluster's builds, and the SHA-256 pinned for each file.

A release is the set of official files that hold the binaries of one GoBuild at its pinned
version: Kubernetes' six server binaries from dl.k8s.io, etcd's, CoreDNS' and Traefik's GitHub
release archives, metrics-server's GitHub release binary. The provisioner and the test image are
ours: they are always compiled.

The pins live in cluster/release-checksums.json, one entry per file and architecture. An entry
that is null was never filled (its build always compiles); `python -m harness.cluster
pin-releases`, on a host that reaches the release hosts, fills it from upstream's own checksum
file (the .sha256 beside each Kubernetes binary, etcd's SHA256SUMS, CoreDNS' .tgz.sha256,
Traefik's checksums.txt) and never overwrites a pin that disagrees.
"""

from __future__ import annotations

import json
import platform
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import fetch
from .paths import CLUSTER_SRC
from .settings import ETCD_VERSION, KUBERNETES_BINARIES, KUBERNETES_VERSION

PINS_FILE = CLUSTER_SRC / "release-checksums.json"
PIN_ARCHES = ("amd64", "arm64")
GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
PINS_ABOUT = (
    "SHA-256 of each released file the cluster may download instead of compiling "
    "(harness/cluster/releases.py). null: not pinned yet, so that build compiles. Fill on a host "
    "that reaches dl.k8s.io and github.com with `python -m harness.cluster pin-releases` (it reads "
    "upstream's checksum files), review the diff, commit."
)


@dataclass(frozen=True)
class Artifact:
    """One official file and the binaries in it."""

    url: str
    # upstream's checksum file for it: a bare digest or `<digest>  <file name>` lines; None when
    # upstream publishes none (then pin-releases hashes the download itself)
    checksum_url: str | None
    members: dict[str, str]  # binary name in the cache -> path inside the archive; "" = the file itself

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Release:
    build: str  # the GoBuild's name
    version: str  # must equal the GoBuild's version, or the download is not used
    artifacts: tuple[Artifact, ...]

    @property
    def binaries(self) -> set[str]:
        return {name for artifact in self.artifacts for name in artifact.members}


def host_arch() -> str:
    machine = platform.machine().lower()
    return GOARCH.get(machine, machine)


def _github(repo: str, tag: str, name: str) -> str:
    return f"https://github.com/{repo}/releases/download/{tag}/{name}"


def all_releases(arch: str) -> dict[str, Release]:
    """Every build upstream publishes binaries for, by GoBuild name, for one architecture."""
    # not at the top: harness.cluster.addons imports build, which imports this module
    from .addons import settings as addon_settings  # noqa: PLC0415

    k8s = KUBERNETES_VERSION
    k8s_dir = f"https://dl.k8s.io/release/{k8s}/bin/linux/{arch}"
    kubernetes = tuple(
        Artifact(f"{k8s_dir}/{name}", f"{k8s_dir}/{name}.sha256", {name: ""}) for name in KUBERNETES_BINARIES
    )
    etcd = f"etcd-{ETCD_VERSION}-linux-{arch}"
    coredns = f"coredns_{addon_settings.COREDNS_VERSION.lstrip('v')}_linux_{arch}.tgz"
    traefik_tag = addon_settings.TRAEFIK_VERSION
    metrics_tag = addon_settings.METRICS_SERVER_VERSION
    return {
        "kubernetes": Release("kubernetes", k8s, kubernetes),
        "etcd": Release(
            "etcd",
            ETCD_VERSION,
            (
                Artifact(
                    _github("etcd-io/etcd", ETCD_VERSION, f"{etcd}.tar.gz"),
                    _github("etcd-io/etcd", ETCD_VERSION, "SHA256SUMS"),
                    {"etcd": f"{etcd}/etcd"},
                ),
            ),
        ),
        "coredns": Release(
            "coredns",
            addon_settings.COREDNS_VERSION,
            (
                Artifact(
                    _github("coredns/coredns", addon_settings.COREDNS_VERSION, coredns),
                    _github("coredns/coredns", addon_settings.COREDNS_VERSION, f"{coredns}.sha256"),
                    {"coredns": "coredns"},
                ),
            ),
        ),
        "traefik": Release(
            "traefik",
            traefik_tag,
            (
                Artifact(
                    _github("traefik/traefik", traefik_tag, f"traefik_{traefik_tag}_linux_{arch}.tar.gz"),
                    _github("traefik/traefik", traefik_tag, f"traefik_{traefik_tag}_checksums.txt"),
                    {"traefik": "traefik"},
                ),
            ),
        ),
        # published as plain binaries since v0.7.0; upstream has no checksum file for them
        "metrics-server": Release(
            "metrics-server",
            metrics_tag,
            (
                Artifact(
                    _github("kubernetes-sigs/metrics-server", metrics_tag, f"metrics-server-linux-{arch}"),
                    None,
                    {"metrics-server": ""},
                ),
            ),
        ),
    }


def release_for(build_name: str, version: str, arch: str | None = None) -> Release | None:
    """The release holding exactly this build's version, if upstream publishes one."""
    release = all_releases(arch or host_arch()).get(build_name)
    return release if release is not None and release.version == version else None


def pinned_urls() -> list[str]:
    """Every file the pins file must have an entry for."""
    return sorted(
        artifact.url
        for arch in PIN_ARCHES
        for release in all_releases(arch).values()
        for artifact in release.artifacts
    )


def load_pins(path: Path | None = None) -> dict[str, str | None]:
    """URL -> pinned SHA-256 (None: not pinned). A missing or unreadable file pins nothing."""
    try:
        loaded = json.loads((path or PINS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    pins = loaded.get("sha256") if isinstance(loaded, dict) else None
    if not isinstance(pins, dict):
        return {}
    return {
        str(url): value if isinstance(value, str) and SHA256_HEX.match(value) else None
        for url, value in pins.items()
    }


def write_pins(pins: dict[str, str | None], path: Path | None = None) -> None:
    payload = {"about": PINS_ABOUT, "sha256": dict(sorted(pins.items()))}
    (path or PINS_FILE).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def digest_from_checksum_file(text: str, file_name: str) -> str | None:
    """The SHA-256 for file_name in a checksum file: a bare digest, or `<digest>  [*]<name>` lines."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    for fields in lines:
        if len(fields) >= 2 and fields[-1].lstrip("*") == file_name and SHA256_HEX.match(fields[0].lower()):
            return fields[0].lower()
    if len(lines) == 1 and len(lines[0]) == 1 and SHA256_HEX.match(lines[0][0].lower()):
        return lines[0][0].lower()
    return None


def _upstream_digest(artifact: Artifact) -> str:
    if artifact.checksum_url is None:
        with tempfile.TemporaryDirectory(prefix="pin-release-") as scratch:
            digest, _ = fetch.download(fetch.source_url(artifact.url), Path(scratch) / artifact.file_name)
        return digest
    text = fetch.read_text(fetch.source_url(artifact.checksum_url))
    listed = digest_from_checksum_file(text, artifact.file_name)
    if listed is None:
        raise fetch.FetchError(f"{artifact.checksum_url} names no SHA-256 for {artifact.file_name}")
    return listed


def fill_pins(path: Path | None = None) -> list[str]:
    """Pin every file not pinned yet from upstream's checksum files; return the problems (a pin
    that disagrees with upstream is kept and reported, a file that could not be read stays null)."""
    pins = load_pins(path)
    problems: list[str] = []
    filled: dict[str, str | None] = dict.fromkeys(pinned_urls())
    for arch in PIN_ARCHES:
        for release in all_releases(arch).values():
            for artifact in release.artifacts:
                pinned = pins.get(artifact.url)
                filled[artifact.url] = pinned
                try:
                    upstream = _upstream_digest(artifact)
                except fetch.FetchError as error:
                    problems.append(f"{artifact.url}: not pinned: {error}")
                    continue
                if pinned is not None and pinned != upstream:
                    problems.append(
                        f"{artifact.url}: pinned {pinned}, upstream now says {upstream}; kept the pin"
                    )
                    continue
                filled[artifact.url] = upstream
                source = artifact.checksum_url or "hashed from the download (no upstream checksum file)"
                print(f"[pin] {artifact.file_name} ({arch}): {upstream} from {source}", file=sys.stderr)
    write_pins(filled, path)
    return problems
