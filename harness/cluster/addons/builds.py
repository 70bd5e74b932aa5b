"""How each add-on binary is built: one pinned Go module per add-on under cluster/addons/."""

from __future__ import annotations

import hashlib

from ..build import GoBuild
from ..paths import CLUSTER_SRC
from . import settings

ADDONS_SRC = CLUSTER_SRC / "addons"
# Static, path-independent binaries; GOWORK=off so no workspace file can change the pins.
GO_ENV = {"CGO_ENABLED": "0", "GOWORK": "off", "GOFLAGS": "-buildvcs=false -trimpath"}


def _source_digest(module: str) -> str:
    src = ADDONS_SRC / module
    digest = hashlib.sha256()
    for path in sorted([*src.glob("*.go"), src / "go.mod", src / "go.sum"]):
        if path.is_file() and not path.name.endswith("_test.go"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


COREDNS = GoBuild(
    name="coredns",
    version=settings.COREDNS_VERSION,
    module_dir=ADDONS_SRC / "coredns",
    packages={"coredns": "github.com/coredns/coredns"},
    ldflags=["-s", "-w"],
    env=GO_ENV,
)

METRICS_SERVER = GoBuild(
    name="metrics-server",
    version=settings.METRICS_SERVER_VERSION,
    module_dir=ADDONS_SRC / "metrics-server",
    packages={"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
    ldflags=[
        "-s",
        "-w",
        f"-X k8s.io/client-go/pkg/version.gitVersion={settings.METRICS_SERVER_VERSION}",
        f"-X k8s.io/component-base/version.gitVersion={settings.METRICS_SERVER_VERSION}",
    ],
    env=GO_ENV,
)

TRAEFIK = GoBuild(
    name="traefik",
    version=settings.TRAEFIK_VERSION,
    module_dir=ADDONS_SRC / "traefik",
    packages={"traefik": "github.com/traefik/traefik/v3/cmd/traefik"},
    ldflags=[
        "-s",
        "-w",
        f"-X github.com/traefik/traefik/v3/pkg/version.Version={settings.TRAEFIK_VERSION}",
    ],
    env=GO_ENV,
)

PROVISIONER = GoBuild(
    name="hostpath-provisioner",
    version=f"{settings.PROVISIONER_LIB_VERSION}-{_source_digest('hostpath-provisioner')}",
    module_dir=ADDONS_SRC / "hostpath-provisioner",
    packages={"hostpath-provisioner": "taskflow/cluster/addons/hostpath-provisioner"},
    ldflags=["-s", "-w"],
    env=GO_ENV,
)

ADDON_BUILDS = (COREDNS, METRICS_SERVER, PROVISIONER, TRAEFIK)
