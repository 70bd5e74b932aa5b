"""The prerequisites step: its manifests, its decisions per provider and its bad-input lines.

The real install is exercised by `nox -s bare-conformance` against the embedded cluster started
bare; these tests cover what needs no cluster.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from kubernetes.client import ApiException

from harness import prerequisites, providers
from harness.cluster import build
from harness.cluster import images as cluster_images
from harness.errors import UserError
from harness.kube import Kube
from harness.prerequisites import checks, images, install
from harness.prerequisites.images import ADDON_IMAGES

REAL_PIECES = install.pieces
LOCAL_IMAGES = {name: str(image.local or image.upstream) for name, image in ADDON_IMAGES.items()}


@pytest.mark.parametrize(
    "manifest",
    [
        "namespace.yaml",
        "traefik.yaml",
        "ingress-nginx.yaml",
        "metrics-server.yaml",
        "hostpath-provisioner.yaml",
    ],
)
def test_every_manifest_renders_completely(manifest: str) -> None:
    options = install.Options(install=True, ingress_class="traefik", listen_address="127.0.0.1")
    objects = install.render(manifest, options, LOCAL_IMAGES)
    assert objects
    text = json.dumps(objects)
    assert "${" not in text
    for item in objects:
        if item["kind"] == "Namespace":
            continue
        namespaced = item["metadata"].get("namespace")
        assert namespaced in (None, install.NAMESPACE, "kube-system", "ingress-nginx"), item["metadata"]


def test_ingress_controller_listens_where_told_and_serves_the_overlays_class() -> None:
    options = install.Options(
        install=True, ingress_class="traefik", listen_address="127.0.0.1", host_network=True
    )
    objects = install.render("traefik.yaml", options, LOCAL_IMAGES)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    args = pod["containers"][0]["args"]
    assert "--entryPoints.websecure.address=127.0.0.1:443" in args
    assert "--entryPoints.traefik.address=127.0.0.1:18083" in args
    assert pod["containers"][0]["readinessProbe"]["httpGet"]["host"] == "127.0.0.1"
    assert pod["containers"][0]["image"] == ADDON_IMAGES["traefik"].local
    ingress_class = next(o for o in objects if o["kind"] == "IngressClass")
    assert ingress_class["metadata"]["name"] == "traefik"


def test_ingress_controller_on_a_container_node_uses_host_ports() -> None:
    options = install.Options(install=True, ingress_class="traefik")
    objects = install.render("traefik.yaml", options, LOCAL_IMAGES)
    container = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert container["hostNetwork"] is False
    ports = {p["name"]: (p["containerPort"], p["hostPort"]) for p in container["containers"][0]["ports"]}
    assert ports == {"web": (80, 80), "websecure": (443, 443)}
    assert "--entryPoints.websecure.address=:443" in container["containers"][0]["args"]


def test_metrics_api_service_is_applied_after_its_server() -> None:
    options = install.Options(install=True, ingress_class="traefik")
    objects = install.render("metrics-server.yaml", options, LOCAL_IMAGES)
    kinds = [o["kind"] for o in objects]
    assert "APIService" in kinds and "Deployment" in kinds


def test_removal_takes_the_api_service_first_and_the_namespace_last() -> None:
    objects = [
        {"kind": "Namespace"},
        {"kind": "ClusterRole"},
        {"kind": "Deployment"},
        {"kind": "APIService"},
        {"kind": "StorageClass"},
    ]
    ordered = [o["kind"] for o in sorted(objects, key=install._removal_rank)]
    assert ordered[0] == "APIService"
    assert ordered[-1] == "Namespace"


def _cluster_without(monkeypatch: pytest.MonkeyPatch, missing: set[str]) -> None:
    """Every piece's check answers from `missing` (names as in install.pieces)."""
    monkeypatch.setattr(checks, "require_reachable", lambda kube: "v1.34.4")

    def fake_pieces(ingress_class: str) -> list[install.Piece]:
        real = REAL_PIECES(ingress_class)
        return [
            install.Piece(
                p.name,
                (lambda kube, name=p.name: f"no {name}" if name in missing else None),
                p.manifest,
                p.fix,
                p.images,
            )
            for p in real
        ]

    monkeypatch.setattr(install, "pieces", fake_pieces)
    monkeypatch.setattr(install, "_found_detail", lambda kube, piece: "present")


def test_not_allowed_to_install_gives_one_line_per_missing_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    _cluster_without(monkeypatch, {"metrics API", "ingress controller (IngressClass traefik)"})
    options = install.Options(install=False, ingress_class="traefik")
    with pytest.raises(UserError) as raised:
        prerequisites.ensure_prerequisites(None, options, lambda archives: None)  # type: ignore[arg-type]
    lines = str(raised.value).splitlines()
    assert lines[0] == "the cluster lacks what the spec needs:"
    assert len(lines) == 3
    assert any(
        line.strip().startswith("ingress controller (IngressClass traefik): no ingress") for line in lines
    )
    assert all("--install-prerequisites" in line for line in lines[1:])


def test_a_class_the_harness_cannot_serve_says_so_even_when_installing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cluster_without(monkeypatch, {"ingress controller (IngressClass haproxy)"})
    options = install.Options(install=True, ingress_class="haproxy")
    with pytest.raises(UserError, match=r"serving IngressClass 'haproxy'\)$"):
        prerequisites.ensure_prerequisites(None, options, lambda archives: None)  # type: ignore[arg-type]


def test_provisioner_without_a_published_image_needs_local_images(monkeypatch: pytest.MonkeyPatch) -> None:
    _cluster_without(monkeypatch, {"default StorageClass"})
    options = install.Options(install=True, ingress_class="traefik", images="upstream")
    with pytest.raises(UserError, match=r"default StorageClass: .*--images-present"):
        prerequisites.ensure_prerequisites(None, options, lambda archives: None)  # type: ignore[arg-type]


def test_nginx_cannot_be_built_here_so_local_images_cannot_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cluster_without(monkeypatch, {"ingress controller (IngressClass nginx)"})
    options = install.Options(install=True, ingress_class="nginx", images="local")
    with pytest.raises(UserError, match=r"cannot be built here; the cluster must pull it"):
        prerequisites.ensure_prerequisites(None, options, lambda archives: None)  # type: ignore[arg-type]


def test_ingress_nginx_sits_where_the_base_network_policy_expects_it() -> None:
    options = install.Options(install=True, ingress_class="nginx")
    objects = install.render("ingress-nginx.yaml", options, LOCAL_IMAGES)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == "ingress-nginx"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["ingress-ready"] == "true"
    assert "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller" in pod["containers"][0]["args"]


def test_complete_cluster_reports_everything_found(monkeypatch: pytest.MonkeyPatch) -> None:
    _cluster_without(monkeypatch, set())
    found = prerequisites.ensure_prerequisites(
        None,  # type: ignore[arg-type]
        install.Options(install=False, ingress_class="traefik"),
        lambda archives: None,
    )
    assert [r.state for r in found.results] == ["found"] * 4
    assert found.installed() == []


def test_unreachable_api_server_is_one_line(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    kube = Kube.from_kubeconfig(kubeconfig)
    kube.api_client.configuration.retries = 0
    with pytest.raises(UserError, match=r"the API server https://127.0.0.1:1 does not answer") as raised:
        checks.require_reachable(kube)
    assert len(str(raised.value).splitlines()) == 1


def test_external_installs_only_when_told() -> None:
    told = providers.make_provider(
        "external", kubeconfig=Path("k"), install_prerequisites=True, images_present=True, overlay="local"
    )
    options = told.prerequisite_options("traefik")
    assert options.install and options.images == "local" and options.listen_address == "127.0.0.1"
    assert options.host_network
    assert told.overlay == "local"
    untold = providers.make_provider("external", kubeconfig=Path("k"), ingress_address="10.0.0.5")
    options = untold.prerequisite_options("traefik")
    assert not options.install and options.images == "upstream" and options.listen_address == ""


def test_local_never_installs_and_points_at_up() -> None:
    options = providers.LocalProvider().prerequisite_options("traefik")
    assert not options.install
    assert "nox -s cluster -- up" in options.no_install_fix


def test_overlay_only_with_external() -> None:
    with pytest.raises(UserError, match="--overlay only goes with --provider external"):
        providers.make_provider("local", overlay="kind")


def test_bare_start_keeps_dns_and_removes_the_other_addons() -> None:
    from harness.cluster.addons import actions  # noqa: PLC0415
    from harness.cluster.addons.bare_mode import REMOVED_OBJECTS, REMOVED_PROCESSES  # noqa: PLC0415

    bare = [action.name for action in actions(bare=True)]
    normal = [action.name for action in actions()]
    assert "cluster DNS (CoreDNS)" in bare
    assert not any(
        name in bare for name in ("metrics-server", "storage provisioner", "ingress controller (Traefik)")
    )
    assert all(
        name in normal for name in ("metrics-server", "storage provisioner", "ingress controller (Traefik)")
    )
    assert set(REMOVED_PROCESSES) == {"traefik", "metrics-server", "hostpath-provisioner"}
    assert ("apiservice", "v1beta1.metrics.k8s.io") in REMOVED_OBJECTS


class _LiveKind:
    """One kind of kube.dynamic, as leftovers() reads it: the live objects' labels by name."""

    def __init__(self, labels_by_name: dict[str, dict[str, str]]) -> None:
        self.labels_by_name = labels_by_name

    def get(self, *, name: str, namespace: str | None = None) -> SimpleNamespace:
        if name not in self.labels_by_name:
            raise ApiException(status=404)
        return SimpleNamespace(metadata=SimpleNamespace(labels=self.labels_by_name[name]))


def test_leftovers_are_only_objects_carrying_our_label() -> None:
    ours = {"app.kubernetes.io/managed-by": "taskflow-conformance"}
    live = {
        # a killed run's ingress controller and its namespace
        "Namespace": {"taskflow-system": ours},
        "IngressClass": {"traefik": ours},
        # the embedded cluster's own APIService and StorageClass: same names, not ours
        "APIService": {"v1beta1.metrics.k8s.io": {}},
        "StorageClass": {"standard": {"addon": "embedded"}},
    }
    resources = SimpleNamespace(get=lambda *, api_version, kind: _LiveKind(live.get(kind, {})))
    kube = cast(Kube, SimpleNamespace(dynamic=SimpleNamespace(resources=resources)))
    found = sorted((m["kind"], m["metadata"]["name"]) for m in install.leftovers(kube))
    assert found == [("IngressClass", "traefik"), ("Namespace", "taskflow-system")]


def test_an_addon_image_archive_is_cached_under_its_builds_key_not_its_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TASKFLOW_CACHE", str(tmp_path / "cache"))
    made: list[Path] = []

    def fake_scratch_image(reference: str, files: dict[str, Path], entrypoint: list[str], out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(reference)
        made.append(out)

    monkeypatch.setattr(build, "ensure_built", lambda b, layout: tmp_path / b.cache_key)
    monkeypatch.setattr(cluster_images, "scratch_image", fake_scratch_image)
    first = images.build_addon_image(images.TRAEFIK)
    assert images.build_addon_image(images.TRAEFIK) == first and len(made) == 1
    # the same version built from other module pins is another binary: another archive
    rebuilt = replace(images._BUILDS[images.TRAEFIK], ldflags=["-X", "main.other=1"])
    monkeypatch.setitem(images._BUILDS, images.TRAEFIK, rebuilt)
    second = images.build_addon_image(images.TRAEFIK)
    assert second != first and len(made) == 2
    assert rebuilt.version in second.name
