"""The core start actions, in order; add-on actions run after these."""

from __future__ import annotations

import json

from . import build, cgroups, component, configs, deps, network, pki, preflight
from . import core_components as cc
from .actions import Action
from .context import Context
from .images import image_names, pause_image
from .settings import PAUSE_IMAGE


def _preflight(ctx: Context) -> None:
    preflight.require_root()
    preflight.require_kernel()
    preflight.require_free_ports(ctx.layout, ctx.net)


def _deps(ctx: Context) -> None:
    deps.ensure()


def _build(ctx: Context) -> None:
    ctx.binaries.update(build.ensure_core(ctx.layout))


def _pki(ctx: Context) -> None:
    ctx.layout.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    pki.ensure_all(
        ctx.layout.pki,
        configs.NODE_NAME,
        ctx.net.node_ip,
        ctx.net.kubernetes_service_ip,
        ctx.net.cluster_domain,
    )


def _pki_handle(ctx: Context) -> pki.Pki:
    return pki.Pki(ctx.layout.pki)


def _configs(ctx: Context) -> None:
    p = _pki_handle(ctx)
    configs.write_kubeconfigs(ctx.layout, p, ctx.net)
    configs.containerd_config(ctx.layout, ctx.net)
    configs.cni_config(ctx.layout, ctx.net)
    configs.kube_proxy_config(ctx.layout, ctx.net)
    configs.scheduler_config(ctx.layout)


def _cgroups(ctx: Context) -> None:
    # While the kubelet runs, its root stays (a later `up` may run in another cgroup). A fresh
    # start (e.g. after a reboot or in another session) moves below the current cgroup.
    recorded = ctx.recorded("cgroup_root")
    if recorded is not None and component.running(ctx.layout, "kubelet") is not None:
        root = recorded
    else:
        root = cgroups.choose_root()
        if recorded is not None and recorded != root:
            cgroups.remove_tree(recorded, ctx.recorded("cgroup_dirs_created", []))
            ctx.record("cgroup_dirs_created", [])
        ctx.record("cgroup_root", root)
    created = cgroups.ensure_root(root)
    if created:
        ctx.record("cgroup_dirs_created", sorted(set(ctx.recorded("cgroup_dirs_created", []) + created)))
    configs.kubelet_config(ctx.layout, _pki_handle(ctx), root, ctx.net)
    ctx.say(f"kubelet cgroup root: {root}")


def _network(ctx: Context) -> None:
    ctx.record("uplink", network.uplink())
    if network.ensure_bridge(ctx.net):
        ctx.record("bridge_created", True)
    previous = network.set_sysctls()
    if previous:
        merged = {**previous, **ctx.recorded("sysctls_previous", {})}
        ctx.record("sysctls_previous", merged)
    network.ensure_guard(ctx.net)
    ctx.say(f"network: {ctx.net.bridge} {ctx.net.node_ip}, guard on uplink {network.uplink()}")


def _containerd(ctx: Context) -> None:
    ctx.start(cc.containerd(ctx.layout, ctx.layout.config / "containerd.toml"))


def _pause_image(ctx: Context) -> None:
    if PAUSE_IMAGE not in image_names(ctx):
        ctx.load_image(pause_image(ctx.layout.cache))


def _etcd(ctx: Context) -> None:
    ctx.start(cc.etcd(ctx.layout, ctx.binaries["etcd"], ctx.net))


def _apiserver(ctx: Context) -> None:
    ctx.start(cc.kube_apiserver(ctx.layout, ctx.binaries["kube-apiserver"], _pki_handle(ctx), ctx.net))


def _controllers(ctx: Context) -> None:
    p = _pki_handle(ctx)
    ctx.start(cc.kube_controller_manager(ctx.layout, ctx.binaries["kube-controller-manager"], p, ctx.net))
    ctx.start(
        cc.kube_scheduler(
            ctx.layout, ctx.binaries["kube-scheduler"], ctx.layout.config / "kube-scheduler.json"
        )
    )


def _kubelet(ctx: Context) -> None:
    ctx.start(cc.kubelet(ctx.layout, ctx.binaries["kubelet"], ctx.layout.config / "kubelet.json", ctx.net))


def _kube_proxy(ctx: Context) -> None:
    ctx.start(cc.kube_proxy(ctx.layout, ctx.binaries["kube-proxy"], ctx.layout.config / "kube-proxy.json"))
    # kube-proxy inserts its jumps at the top of FORWARD; put the guard back in front.
    network.ensure_guard(ctx.net)


def node_ready_reason(ctx: Context) -> str | None:
    out = ctx.kubectl("get", "node", configs.NODE_NAME, "-o", "json", check=False)
    if not out:
        return "node not registered yet"
    conditions = json.loads(out).get("status", {}).get("conditions", [])
    for cond in conditions:
        if cond.get("type") == "Ready":
            if cond.get("status") == "True":
                return None
            return f"Ready={cond.get('status')}: {cond.get('message', '')[:160]}"
    return "no Ready condition yet"


def _node_ready(ctx: Context) -> None:
    ctx.wait_for(f"node {configs.NODE_NAME} Ready", lambda: node_ready_reason(ctx), timeout=120)


def _default_sa(ctx: Context) -> None:
    # Pods can only be created once the namespace's default ServiceAccount exists.
    ctx.wait_for(
        "default service account",
        lambda: None if ctx.kubectl("get", "sa", "default", "-o", "name", check=False) else "not created yet",
        timeout=60,
    )


CORE_ACTIONS: list[Action] = [
    Action("preflight", _preflight),
    Action("host packages", _deps),
    Action("binaries", _build),
    Action("certificates", _pki),
    Action("configs", _configs),
    Action("cgroups", _cgroups),
    Action("network", _network),
    Action("containerd", _containerd),
    Action("pause image", _pause_image),
    Action("etcd", _etcd),
    Action("kube-apiserver", _apiserver),
    Action("controllers", _controllers),
    Action("kubelet", _kubelet),
    Action("kube-proxy", _kube_proxy),
    Action("node ready", _node_ready),
    Action("default service account", _default_sa),
]
