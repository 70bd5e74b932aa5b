"""The core start actions, in order; add-on actions run after these."""

from __future__ import annotations

import json

from . import build, cgroups, component, configs, deps, hoststate, network, pki, preflight
from . import core_components as cc
from .actions import Action
from .context import Context
from .images import image_names, pause_image
from .settings import PAUSE_IMAGE


def _preflight(ctx: Context) -> None:
    preflight.require_root()
    preflight.require_kernel()
    preflight.require_no_conflicts(ctx.layout, ctx.net)


def _state(ctx: Context) -> None:
    """The state dir with the journal in it, then the baselines `down` compares against."""
    hoststate.create_state_dir(ctx.layout)
    hoststate.record_baselines(ctx.journal, ctx.layout)


def _guard(ctx: Context) -> None:
    # first change of all: nothing of the cluster can leave the machine before it is in place
    ctx.journal.intend("guard", "guard", chains=[c.name for c in network.guard_chains(ctx.net)])
    network.ensure_guard(ctx.net)


def _deps(ctx: Context) -> None:
    deps.ensure()


def _build(ctx: Context) -> None:
    ctx.binaries.update(build.ensure_core(ctx.layout))


def _pki(ctx: Context) -> None:
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
    configs.authentication_config(ctx.layout)
    configs.encryption_config(ctx.layout)
    configs.audit_policy(ctx.layout)


def _cgroups(ctx: Context) -> None:
    # While the kubelet runs, its root stays (a later `up` may run in another cgroup). A fresh
    # start (e.g. after a reboot or in another session) moves below the current cgroup; `down`
    # removes every root recorded.
    recorded = ctx.recorded("cgroup_root")
    if recorded is not None and component.running(ctx.layout, "kubelet") is not None:
        root = recorded
    else:
        root = cgroups.choose_root()
        if recorded is not None and recorded != root:
            ctx.say(f"kubelet cgroup root moves: {recorded} -> {root} (the kubelet was not running)")
    ctx.journal.intend(f"cgroup:{root}", "cgroup", root=root, existing=cgroups.existing_dirs(root))
    ctx.record("cgroup_root", root)
    cgroups.ensure_root(root)
    configs.kubelet_config(ctx.layout, _pki_handle(ctx), root, ctx.net)
    ctx.say(f"kubelet cgroup root: {root}")


def _network(ctx: Context) -> None:
    network.set_sysctls(ctx.journal)
    network.ensure_bridge(ctx.journal, ctx.net)
    network.ensure_guard(ctx.net)
    ctx.say(f"network: {ctx.net.bridge} {ctx.net.node_ip}; guard on every interface")


def _containerd(ctx: Context) -> None:
    ctx.start(cc.containerd(ctx.layout, ctx.layout.config / "containerd.toml"))


def _pause_image(ctx: Context) -> None:
    if PAUSE_IMAGE not in image_names(ctx):
        ctx.load_image(pause_image(ctx.layout.cache))


def _etcd(ctx: Context) -> None:
    ctx.start(cc.etcd(ctx.layout, ctx.binaries["etcd"], _pki_handle(ctx), ctx.net))


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
    network.record_sysctls(ctx.journal, network.KUBELET_SYSCTLS, "kubelet")
    ctx.start(cc.kubelet(ctx.layout, ctx.binaries["kubelet"], ctx.layout.config / "kubelet.json", ctx.net))


def _kube_proxy(ctx: Context) -> None:
    network.record_sysctls(ctx.journal, network.KUBE_PROXY_SYSCTLS, "kube-proxy")
    ctx.start(cc.kube_proxy(ctx.layout, ctx.binaries["kube-proxy"], ctx.layout.config / "kube-proxy.json"))
    # kube-proxy inserts its jumps at the top of INPUT, FORWARD and OUTPUT on its first sync,
    # after it answers healthz: wait for them, then put the guard back in front.
    ctx.wait_for("kube-proxy's first sync", network.runtime_jumps_missing, timeout=30)
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
    Action("state dir", _state),
    Action("guard", _guard),
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
