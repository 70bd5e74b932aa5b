"""Fast checks of the add-on wiring (no cluster): pins agree with go.mod, templates render to
valid YAML/Corefile, and the DNS probe speaks DNS."""

from __future__ import annotations

import re
import socket
import struct
import threading

import pytest
import yaml

from harness.cluster.addons import builds, dnsquery, manifests, settings
from harness.cluster.addons.ingress import http_entrypoint
from harness.cluster.build import GoBuild

PINS = [
    (builds.COREDNS, "github.com/coredns/coredns", settings.COREDNS_VERSION),
    (builds.METRICS_SERVER, "sigs.k8s.io/metrics-server", settings.METRICS_SERVER_VERSION),
    (builds.TRAEFIK, "github.com/traefik/traefik/v3", settings.TRAEFIK_VERSION),
    (
        builds.PROVISIONER,
        "sigs.k8s.io/sig-storage-lib-external-provisioner/v13",
        settings.PROVISIONER_LIB_VERSION,
    ),
]


@pytest.mark.parametrize(("build", "module", "version"), PINS, ids=[p[0].name for p in PINS])
def test_cache_key_version_is_the_go_mod_pin(build: GoBuild, module: str, version: str) -> None:
    go_mod = (build.module_dir / "go.mod").read_text()
    assert re.search(rf"^\s*(require\s+)?{re.escape(module)} {re.escape(version)}(\s|$)", go_mod, re.M)
    assert build.version.startswith(version)
    assert (build.module_dir / "go.sum").is_file()


def test_provisioner_cache_key_changes_with_its_source() -> None:
    # our own program: a code change must not reuse a stale cached binary
    assert builds.PROVISIONER.version != settings.PROVISIONER_LIB_VERSION
    assert builds.PROVISIONER.version == f"{settings.PROVISIONER_LIB_VERSION}-" + builds._source_digest(
        "hostpath-provisioner"
    )


COMMON = {"NODE_IP": "10.244.0.1", "NODE_NAME": "taskflow-node", "USER": "taskflow:addon:x"}


@pytest.mark.parametrize(
    ("template", "values"),
    [
        ("coredns/kube-dns.yaml", {"CLUSTER_DNS": "10.96.0.10"}),
        ("metrics-server/metrics-server.yaml", {"PORT": 4443}),
        ("metrics-server/apiservice.yaml", {"CA_BUNDLE": "Y2E="}),
        ("hostpath-provisioner/storage.yaml", {"STORAGE_CLASS": "standard", "PROVISIONER": "p/q"}),
        ("traefik/ingress.yaml", {}),
    ],
)
def test_manifests_render_to_kubernetes_objects(template: str, values: dict[str, object]) -> None:
    docs = [d for d in yaml.safe_load_all(manifests.render(template, **COMMON, **values)) if d]
    assert docs
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys()


def test_kube_dns_endpoint_is_the_node() -> None:
    docs = list(
        yaml.safe_load_all(manifests.render("coredns/kube-dns.yaml", **COMMON, CLUSTER_DNS="10.96.0.10"))
    )
    (service,) = [d for d in docs if d["kind"] == "Service"]
    (slice_,) = [d for d in docs if d["kind"] == "EndpointSlice"]
    assert "selector" not in service["spec"]  # else the endpoints controller would own the slice
    assert service["spec"]["clusterIP"] == "10.96.0.10"
    assert slice_["endpoints"][0]["addresses"] == ["10.244.0.1"]
    assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"


def test_corefile_answers_only_cluster_zones() -> None:
    text = manifests.render(
        "coredns/Corefile.tmpl",
        CLUSTER_DOMAIN="cluster.local",
        NODE_IP="10.244.0.1",
        READY_ADDRESS="127.0.0.1:18181",
        KUBECONFIG="/k",
        KUBE_CONTEXT="taskflow",
    )
    directives = [line.split()[0] for line in text.splitlines() if line.strip() and line[0] != "#"]
    assert "forward" not in directives
    assert "kubeconfig /k taskflow" in text
    assert text.count("bind 10.244.0.1") == 2


@pytest.mark.parametrize("http_port", [80, 0])
def test_traefik_config_listens_on_loopback_only(http_port: int) -> None:
    text = manifests.render(
        "traefik/traefik.yaml.tmpl",
        HTTP_ENTRYPOINT=http_entrypoint(http_port),
        LISTEN_IP=settings.INGRESS_LISTEN_IP,
        HTTPS_PORT=8443,
        PING_PORT=settings.TRAEFIK_PING_PORT,
    )
    config = yaml.safe_load(text)
    addresses = [ep["address"] for ep in config["entryPoints"].values()]
    assert all(a.startswith("127.0.0.1:") for a in addresses)
    assert ("web" in config["entryPoints"]) == (http_port != 0)
    assert config["global"]["checkNewVersion"] is False
    assert config["entryPoints"]["websecure"]["address"] == "127.0.0.1:8443"


def _fake_dns(answer_ip: str | None, rcode: int = 0) -> tuple[int, threading.Thread]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)

    def serve() -> None:
        with sock:
            query, peer = sock.recvfrom(512)
            txid = query[:2]
            question = query[12:]
            answers = 1 if answer_ip else 0
            reply = txid + struct.pack("!HHHHH", 0x8180 | rcode, 1, answers, 0, 0) + question
            if answer_ip:
                reply += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(answer_ip)
            sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock.getsockname()[1], thread


def test_dns_query_reads_an_a_record() -> None:
    port, thread = _fake_dns("10.96.0.1")
    assert dnsquery.query_a("127.0.0.1", "kubernetes.default.svc.cluster.local", port=port) == ["10.96.0.1"]
    thread.join()


def test_dns_query_reports_nxdomain() -> None:
    port, thread = _fake_dns(None, rcode=3)
    with pytest.raises(dnsquery.DnsError, match="NXDOMAIN"):
        dnsquery.query_a("127.0.0.1", "nope.example", port=port)
    thread.join()
