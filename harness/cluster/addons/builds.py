"""How each add-on binary is built: metrics-server, Traefik and the provisioner from one Go
module, cluster/addons/go.mod; CoreDNS from its own, cluster/addons/coredns/go.mod.

One module means one version of every shared dependency (client-go, apimachinery, grpc,
OpenTelemetry, ...), so the Go build cache compiles each of them once instead of once per
add-on. Its k8s.io/* staging modules are the cluster's own v0.34.4; the add-ons keep their
pinned versions (see cluster/README.md, "Add-ons").
"""

from __future__ import annotations

import hashlib

from ..build import GoBuild
from ..paths import CLUSTER_SRC
from . import settings

ADDONS_SRC = CLUSTER_SRC / "addons"
# Static, path-independent binaries; GOWORK=off so no workspace file can change the pins. The
# add-ons share these flags, so the Go build cache's entries for a package they have in common
# serve all of them (one differing flag would make every package differ).
GO_ENV = {"CGO_ENABLED": "0", "GOWORK": "off", "GOFLAGS": "-buildvcs=false -trimpath"}


def _source_digest(package_dir: str) -> str:
    """Digest of our own Go source in one package of the module (the pins are in the cache key)."""
    src = ADDONS_SRC / package_dir
    digest = hashlib.sha256()
    for path in sorted(src.glob("*.go")):
        if not path.name.endswith("_test.go"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


# Its own module: v1.14.7 needs client-go 0.35 (cache.ToListWatcherWithWatchListSemantics), and
# the CoreDNS versions on client-go 0.34 (<= v1.14.1) lack the fixes of CVE-2026-26017/26018.
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
    module_dir=ADDONS_SRC,
    packages={"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
    ldflags=[
        "-s",
        "-w",
        f"-X k8s.io/client-go/pkg/version.gitVersion={settings.METRICS_SERVER_VERSION}",
        f"-X k8s.io/component-base/version.gitVersion={settings.METRICS_SERVER_VERSION}",
    ],
    env=GO_ENV,
    key_has_inputs_digest=True,
)

TRAEFIK = GoBuild(
    name="traefik",
    version=settings.TRAEFIK_VERSION,
    module_dir=ADDONS_SRC,
    packages={"traefik": "github.com/traefik/traefik/v3/cmd/traefik"},
    ldflags=[
        "-s",
        "-w",
        f"-X github.com/traefik/traefik/v3/pkg/version.Version={settings.TRAEFIK_VERSION}",
    ],
    env=GO_ENV,
    key_has_inputs_digest=True,
)

PROVISIONER = GoBuild(
    name="hostpath-provisioner",
    version=f"{settings.PROVISIONER_LIB_VERSION}-{_source_digest('hostpath-provisioner')}",
    module_dir=ADDONS_SRC,
    packages={"hostpath-provisioner": "taskflow/cluster/addons/hostpath-provisioner"},
    ldflags=["-s", "-w"],
    env=GO_ENV,
    key_has_inputs_digest=True,
)

ADDON_BUILDS = (COREDNS, METRICS_SERVER, PROVISIONER, TRAEFIK)
