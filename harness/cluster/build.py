"""Build pinned Go binaries into a version-keyed cache; a warm cache builds nothing.

A binary group is one Go module under cluster/ (its go.mod pins the versions) and the
packages built from it. Add-ons declare their own GoBuild and call ensure_built().
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from harness import locks
from harness.errors import UserError
from harness.gotoolchain import INSTALL_GO, go_command, this_platform

from . import build_record, prebuilt
from .errors import ClusterError
from .paths import CLUSTER_SRC, Layout
from .settings import ETCD_VERSION, KUBERNETES_BINARIES, KUBERNETES_VERSION


@dataclass(frozen=True)
class GoBuild:
    """One `go build` of some packages of one module under cluster/, cached by version."""

    name: str  # cache key prefix, e.g. "kubernetes"
    version: str  # the pinned version people read; part of the cache key
    module_dir: Path
    packages: dict[str, str]  # binary name -> Go package path
    ldflags: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    # True: the cache key also carries inputs_digest, so a changed go.mod/go.sum/flag gets a new
    # directory by itself. False keeps the plain <name>-<version> key of the builds that had it
    # before the digest existed (Kubernetes, etcd, CoreDNS, test image): renaming their entries
    # would make every warm cache (CI's too) compile them again although nothing changed. Such
    # a build must bump its version when its go.mod pins change — or switch to True.
    key_has_inputs_digest: bool = False

    @cached_property
    def inputs_digest(self) -> str:
        """Digest of what decides the binaries besides the source: the module's pins, flags, env."""
        digest = hashlib.sha256()
        for name in ("go.mod", "go.sum"):
            path = self.module_dir / name
            digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
        env = sorted(f"{key}={value}" for key, value in self.env.items())
        for part in (*self.ldflags, *env, *self.packages.values()):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()[:8]

    @property
    def cache_key(self) -> str:
        """The cache directory's name."""
        key = f"{self.name}-{self.version}"
        return f"{key}-{self.inputs_digest}" if self.key_has_inputs_digest else key

    def out_dir(self, layout: Layout) -> Path:
        return layout.bin_root / self.cache_key

    def binary(self, layout: Layout, binary: str) -> Path:
        return self.out_dir(layout) / binary

    def is_built(self, layout: Layout) -> bool:
        return not self.damaged(layout)

    def damaged(self, layout: Layout) -> list[str]:
        """Binaries missing or not matching their build stamp (empty: ready to run)."""
        out = self.out_dir(layout)
        if not out.is_dir():
            return list(self.packages)
        return build_record.damaged_binaries(out, list(self.packages))


def _k8s_ldflags(version: str) -> list[str]:
    major, minor = version.lstrip("v").split(".")[:2]
    build_date = "2026-01-01T00:00:00Z"  # fixed so rebuilds are reproducible
    flags: list[str] = ["-s", "-w"]  # as upstream release builds: no symbol tables
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate={build_date}",
        ]
    return flags


KUBERNETES = GoBuild(
    name="kubernetes",
    version=KUBERNETES_VERSION,
    module_dir=CLUSTER_SRC / "kubernetes",
    packages={b: f"k8s.io/kubernetes/cmd/{b}" for b in KUBERNETES_BINARIES},
    ldflags=_k8s_ldflags(KUBERNETES_VERSION),
)

ETCD = GoBuild(
    name="etcd",
    version=ETCD_VERSION,
    module_dir=CLUSTER_SRC / "etcd",
    packages={"etcd": "taskflow.local/cluster/etcd"},
    ldflags=[],
)

CORE_BUILDS = (KUBERNETES, ETCD)
LOCAL_GO = Path("/usr/local/go/bin/go")  # Go's own tarball, often not on root's PATH


def go_binary(layout: Layout) -> str:
    """`go` on PATH or in /usr/local/go, else the pinned toolchain fetched once from the Go module
    proxy (harness.gotoolchain), so a fresh machine builds the cluster without installing Go."""
    if shutil.which("go") is None and LOCAL_GO.is_file():
        return str(LOCAL_GO)
    try:
        go = go_command(layout.cache)
    except UserError as exc:
        cause = f"the Go toolchain could not be fetched: {exc.what}"
        raise ClusterError(cause, exc.fix or INSTALL_GO) from exc
    if go is None:
        raise ClusterError(
            f"the Go toolchain is not installed and none is pinned for {this_platform()} "
            "(needed once to build the cluster binaries)",
            "install Go >= 1.24 (e.g. /usr/local/go) or copy a warm cache into "
            "${TASKFLOW_CACHE:-~/.cache/taskflow}/bin",
        )
    return go


def ensure_built(build: GoBuild, layout: Layout) -> Path:
    """Return the output dir, building into it first when any binary is missing."""
    out = build.out_dir(layout)
    damaged = build.damaged(layout)
    if not damaged:
        return out
    if out.is_dir():
        print(
            f"[build] {build.name} {build.version}: cached binaries damaged "
            f"({', '.join(damaged)}); rebuilding",
            file=sys.stderr,
            flush=True,
        )
    # Two `up`s at once (a test run and a person) must not build into the same .partial dir:
    # the second waits for the first and then finds the binaries.
    with _lock(build, out):
        if build.is_built(layout):
            return out
        if prebuilt.install(build, layout, out):
            return out
        return _build(build, layout, out)


def _lock(build: GoBuild, out: Path) -> AbstractContextManager[None]:
    return locks.held(out.with_name(out.name + ".lock"), f"the build of {build.name} {build.version}")


def fetch_released(builds: Iterable[GoBuild], layout: Layout) -> None:
    """Download the released binaries of the builds still missing, before any compiling starts,
    so the cold-cache line counts only what is left to compile."""
    for build in builds:
        if build.damaged(layout) and prebuilt.applies(build):
            with _lock(build, build.out_dir(layout)):
                if build.damaged(layout):
                    prebuilt.install(build, layout, build.out_dir(layout))


def _build(build: GoBuild, layout: Layout, out: Path) -> Path:
    log = layout.cache / "build-logs" / f"{build.cache_key}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    argv = [go_binary(layout), "build", "-o", str(tmp) + "/"]
    if build.ldflags:
        argv += ["-ldflags", " ".join(build.ldflags)]
    argv += list(build.packages.values())
    env = {**os.environ, "GOWORK": "off", **build.env}
    # the modules live inside this git repo; VCS stamping would need git and a trusted checkout
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -buildvcs=false").strip()
    expected = build_record.estimate(layout.cache, build.name)
    print(
        f"[build] {build.name} {build.version}: go build of {_binaries(build)}, "
        f"{expected.describe()}; log {log}",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    cpu_before = _children_cpu_seconds()
    with log.open("w") as fh, _Progress(build.name, expected, started):
        proc = subprocess.run(
            argv, cwd=build.module_dir, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False
        )
    if proc.returncode != 0:
        raise ClusterError(
            f"building {build.name} {build.version} failed (go build exit {proc.returncode})",
            "read the log; a network error while fetching modules can simply be retried",
            log=log,
        )
    # `go build` names each binary after its package's last path element.
    for binary, pkg in build.packages.items():
        produced = tmp / pkg.rsplit("/", 1)[-1]
        if produced != tmp / binary:
            produced.rename(tmp / binary)
    # The stamp is written inside .partial, so a build killed before the rename leaves no
    # half-finished output that looks finished.
    build_record.write_stamp(tmp, list(build.packages))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    wall = time.monotonic() - started
    cpu = _children_cpu_seconds() - cpu_before
    build_record.record_time(layout.cache, build.name, wall, cpu)
    print(
        f"[build] {build.name} done in {build_record.format_duration(wall)} "
        f"({cpu / 60:.1f} CPU-min; expected {expected.describe()})",
        file=sys.stderr,
    )
    return out


def _binaries(build: GoBuild) -> str:
    count = len(build.packages)
    return f"{count} binaries" if count > 1 else "1 binary"


PROGRESS_INTERVAL_SECONDS = 30.0


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _Progress:
    """Print elapsed time against the estimate every PROGRESS_INTERVAL_SECONDS while a build runs."""

    def __init__(self, name: str, expected: build_record.Estimate, started: float) -> None:
        self._name = name
        self._expected = expected
        self._started = started
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"progress-{name}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(PROGRESS_INTERVAL_SECONDS):
            elapsed = time.monotonic() - self._started
            left = self._expected.seconds - elapsed
            outlook = (
                f"about {build_record.format_duration(left)} left"
                if left > 0
                else f"{build_record.format_duration(-left)} over the estimate (a busy machine builds slower)"
            )
            print(
                f"[build] {self._name}: {build_record.format_duration(elapsed)} elapsed, {outlook}",
                file=sys.stderr,
                flush=True,
            )

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


def _why_pending(build: GoBuild, layout: Layout) -> str:
    """Why a build has to run: what the cache holds under this component's name."""
    out = build.out_dir(layout)
    if out.is_dir():
        return "cached binaries damaged"
    if out.with_name(out.name + ".partial").is_dir():
        return "an earlier build was interrupted"
    others = sorted(
        (
            path
            for path in layout.bin_root.glob(f"{build.name}-*")
            if path.is_dir() and not path.name.endswith(".partial")
        ),
        key=lambda path: path.stat().st_mtime,
    )
    if others:
        return f"the cache has {others[-1].name}, from other inputs"
    return "not built on this machine yet"


def announce_cold_builds(builds: Iterable[GoBuild], layout: Layout) -> None:
    """One line before the first build of a run: what is missing, why, and roughly how long it takes."""
    pending = [build for build in builds if build.damaged(layout)]
    if not pending:
        return
    estimates = [build_record.estimate(layout.cache, build.name) for build in pending]
    total = sum(item.seconds for item in estimates)
    measured = sum(item.measured for item in estimates)
    if measured == len(pending):
        basis = "as measured on this machine"
    elif measured == 0:
        basis = "reference figures for 2 cores; nothing measured on this machine yet"
    else:
        basis = f"{measured} of {len(pending)} measured on this machine, the rest reference figures"
    reasons = ", ".join(f"{build.name} ({_why_pending(build, layout)})" for build in pending)
    print(
        f"[build] cold cache: {len(pending)} Go build{'s' if len(pending) > 1 else ''} to do, roughly "
        f"{build_record.format_duration(total)} "
        f"({basis}): {reasons}; each is compiled once from its pinned Go modules and cached in "
        f"{layout.bin_root}, later runs start in seconds",
        file=sys.stderr,
        flush=True,
    )


def all_builds() -> tuple[GoBuild, ...]:
    """Every Go build of the cluster: core, add-ons, test image."""
    from .addons.builds import ADDON_BUILDS  # noqa: PLC0415 - the add-ons import this module
    from .testimage import BUILD as TESTIMAGE  # noqa: PLC0415 - it imports this module

    return (*CORE_BUILDS, *ADDON_BUILDS, TESTIMAGE)


def ensure_all(layout: Layout) -> dict[str, Path]:
    """Build whatever is missing of every cluster binary, without starting anything."""
    builds = all_builds()
    fetch_released(builds, layout)
    announce_cold_builds(builds, layout)
    return {build.name: ensure_built(build, layout) for build in builds}


def ensure_core(layout: Layout) -> dict[str, Path]:
    """Build (if needed) every core binary; returns binary name -> path."""
    from .addons.builds import ADDON_BUILDS  # noqa: PLC0415 - the add-ons import this module

    fetch_released((*CORE_BUILDS, *ADDON_BUILDS), layout)
    announce_cold_builds((*CORE_BUILDS, *ADDON_BUILDS), layout)
    paths: dict[str, Path] = {}
    for build in CORE_BUILDS:
        ensure_built(build, layout)
        for binary in build.packages:
            paths[binary] = build.binary(layout, binary)
    link = layout.kubectl_link
    target = paths["kubectl"]
    if not link.is_symlink() or link.resolve() != target:
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    return paths
