"""Build pinned Go binaries into a version-keyed cache; a warm cache builds nothing.

A binary group is one Go module under cluster/ (its go.mod pins the versions) and the
packages built from it. Add-ons declare their own GoBuild and call ensure_built().
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import locks

from .errors import ClusterError
from .paths import CLUSTER_SRC, Layout
from .settings import ETCD_VERSION, KUBERNETES_VERSION


@dataclass(frozen=True)
class GoBuild:
    """One `go build` of some packages of one module under cluster/, cached by version."""

    name: str  # cache key prefix, e.g. "kubernetes"
    version: str  # cache key suffix; bump it whenever go.mod pins change
    module_dir: Path
    packages: dict[str, str]  # binary name -> Go package path
    ldflags: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def out_dir(self, layout: Layout) -> Path:
        return layout.bin_root / f"{self.name}-{self.version}"

    def binary(self, layout: Layout, binary: str) -> Path:
        return self.out_dir(layout) / binary

    def is_built(self, layout: Layout) -> bool:
        return all(self.binary(layout, b).is_file() for b in self.packages)


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
    packages={
        b: f"k8s.io/kubernetes/cmd/{b}"
        for b in (
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kubelet",
            "kube-proxy",
            "kubectl",
        )
    },
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


def go_binary() -> str:
    for candidate in (shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise ClusterError(
        "the Go toolchain is not installed (needed once to build the cluster binaries)",
        "install Go >= 1.24 (e.g. /usr/local/go) or copy a warm cache into "
        "${TASKFLOW_CACHE:-~/.cache/taskflow}/bin",
    )


def ensure_built(build: GoBuild, layout: Layout) -> Path:
    """Return the output dir, building into it first when any binary is missing."""
    out = build.out_dir(layout)
    if build.is_built(layout):
        return out
    # Two `up`s at once (a test run and a person) must not build into the same .partial dir:
    # the second waits for the first and then finds the binaries.
    with locks.held(out.with_name(out.name + ".lock"), f"the build of {build.name} {build.version}"):
        if build.is_built(layout):
            return out
        return _build(build, layout, out)


def _build(build: GoBuild, layout: Layout, out: Path) -> Path:
    layout.logs.mkdir(parents=True, exist_ok=True)
    log = layout.cache / "build-logs" / f"{build.name}-{build.version}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    argv = [go_binary(), "build", "-o", str(tmp) + "/"]
    if build.ldflags:
        argv += ["-ldflags", " ".join(build.ldflags)]
    argv += list(build.packages.values())
    env = {**os.environ, "GOWORK": "off", **build.env}
    # the modules live inside this git repo; VCS stamping would need git and a trusted checkout
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -buildvcs=false").strip()
    print(
        f"[build] {build.name} {build.version}: go build {len(build.packages)} binaries "
        f"(cold kubernetes: ~7 min on 2 idle cores, 2 GB RAM; log {log})",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    with log.open("w") as fh:
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
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    print(f"[build] {build.name} done in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return out


def ensure_core(layout: Layout) -> dict[str, Path]:
    """Build (if needed) every core binary; returns binary name -> path."""
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
