"""up, down and status of the embedded cluster."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from harness import locks

from . import cgroups, component, mounts, network, preflight, usage, users
from .actions import Action
from .build import ensure_core
from .context import Context, load_manifest, start_order
from .core import CORE_ACTIONS, node_ready_reason
from .core_components import containerd
from .errors import ClusterError
from .paths import Layout
from .settings import NETWORK

# Shim sockets live here whatever containerd's state dir is (containerd 1.7 hard-codes it).
CONTAINERD_RUN = Path("/run/containerd")
# Host paths the runtime writes outside our state dir (hard-coded in containerd 1.7's CNI
# library and the kubelet); `down` removes our entries, and the dirs when `up` created them.
CNI_RESULTS = Path("/var/lib/cni/results")
KUBELET_LOG_LINKS = Path("/var/log/containers")
HOST_DIRS = (CONTAINERD_RUN, CNI_RESULTS.parent, KUBELET_LOG_LINKS)


def addon_actions(bare: bool = False) -> list[Action]:
    try:
        addons = importlib.import_module(f"{__package__}.addons")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.addons":
            raise
        return []
    factory = getattr(addons, "actions", None)
    if not callable(factory):
        return []
    return list(factory(bare=True)) if bare else list(factory())


def up(layout: Layout | None = None, with_addons: bool = True, bare: bool = False) -> Path:
    """Start the cluster; `bare` keeps only the core and DNS (no ingress, metrics, storage)."""
    preflight.require_root()
    layout = layout or Layout.default()
    with locks.held(layout.lifecycle_lock, "another `up`/`down`"):
        return _up(layout, with_addons, bare)


def _up(layout: Layout, with_addons: bool, bare: bool = False) -> Path:
    ctx = Context(layout)
    _record_host_dirs(ctx)
    steps = CORE_ACTIONS + (addon_actions(bare) if with_addons else [])
    for step in steps:
        ctx.say(f"== {step.name}")
        step.run(ctx)
    ctx.say(f"cluster up; kubeconfig: {ctx.layout.admin_kubeconfig}")
    return ctx.layout.admin_kubeconfig


def _record_host_dirs(ctx: Context) -> None:
    ctx.layout.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    recorded = ctx.recorded("host_dirs_preexisting", {})
    for path in HOST_DIRS:
        recorded.setdefault(str(path), path.exists())
    ctx.record("host_dirs_preexisting", recorded)


def _remove_host_entries(layout: Layout, preexisting: dict[str, bool]) -> None:
    """Our CNI result cache entries and kubelet log links, then the dirs `up` created."""
    if CNI_RESULTS.is_dir():
        for entry in CNI_RESULTS.iterdir():
            if entry.name.startswith(("taskflow-", "cni-loopback-")):
                entry.unlink(missing_ok=True)
    if KUBELET_LOG_LINKS.is_dir():
        for link in KUBELET_LOG_LINKS.iterdir():
            if link.is_symlink() and os.readlink(link).startswith(str(layout.state)):
                link.unlink()
    for path in HOST_DIRS:
        if preexisting.get(str(path)) is False:
            shutil.rmtree(path, ignore_errors=True)


def _ctr(layout: Layout, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "--address", str(layout.containerd_socket), "-n", "k8s.io", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _kill_containers(ctx: Context) -> None:
    """Kill and delete every container task through our containerd (its shims exit with them)."""
    layout = ctx.layout
    config = layout.config / "containerd.toml"
    if not config.exists():
        return
    if component.running(layout, "containerd") is None:
        if not layout.containerd_root.exists():
            return
        # after a crash: bring our containerd back just to clean up what it started
        ctx.start(containerd(layout, config))
    killed: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = [ln.split() for ln in _ctr(layout, "tasks", "ls").stdout.splitlines()[1:]]
        rows = [r for r in rows if len(r) >= 3]
        if not rows:
            break
        for task, _pid, state in rows:
            if state == "STOPPED":
                _ctr(layout, "tasks", "delete", task)
            elif task not in killed:
                _ctr(layout, "tasks", "kill", "-s", "SIGKILL", task)
                killed.add(task)
        time.sleep(0.2)
    for cont in _ctr(layout, "containers", "ls", "-q").stdout.split():
        _ctr(layout, "containers", "delete", cont)
    if killed:
        ctx.say(f"killed {len(killed)} container task(s)")


def down(layout: Layout | None = None) -> list[str]:
    """Tear everything down; returns problems that need a person (empty when clean)."""
    preflight.require_root()
    layout = layout or Layout.default()
    users.wait_until_unused(layout)
    with locks.held(layout.lifecycle_lock, "another `up`/`down`"):
        return _down(layout)


def _down(layout: Layout) -> list[str]:
    ctx = Context(layout)
    layout = ctx.layout
    if not layout.manifest.exists():
        return _nothing_to_remove(ctx)
    manifest = load_manifest(layout)
    problems: list[str] = []
    if layout.admin_kubeconfig.exists():
        for step in reversed(CORE_ACTIONS + addon_actions()):
            if step.undo is not None:
                try:
                    step.undo(ctx)
                except Exception as exc:  # an add-on's undo must not block the teardown
                    problems.append(f"undo of {step.name} failed: {exc}")
    order = start_order(layout)
    names = [n for n in reversed(order) if n != "containerd"]
    names += [n for n in component.recorded_names(layout) if n not in order and n != "containerd"]
    for name in names:
        if component.stop(layout, name):
            ctx.say(f"stopped {name}")
    _kill_containers(ctx)
    if component.stop(layout, "containerd"):
        ctx.say("stopped containerd")
    leftover_mounts = mounts.unmount_all(layout.state, CONTAINERD_RUN)
    problems += [f"mount still present: {m}" for m in leftover_mounts]
    ctx.say("mounts removed")
    network.remove_owned_chains()
    ctx.say("iptables chains removed")
    for link in _veths_on_bridge():
        subprocess.run(["ip", "link", "del", link], capture_output=True, check=False)
    network.remove_bridge(NETWORK)
    network.restore_sysctls(manifest.get("sysctls_previous", {}))
    root = manifest.get("cgroup_root")
    if root:
        problems += [
            f"cgroup still present: {d}"
            for d in cgroups.remove_tree(root, manifest.get("cgroup_dirs_created", []))
        ]
        ctx.say("cgroups removed")
    if not leftover_mounts:
        shutil.rmtree(layout.state, ignore_errors=True)
        _remove_host_entries(layout, manifest.get("host_dirs_preexisting", {}))
    else:
        problems.append(f"state dir {layout.state} kept because mounts remain")
    ctx.say("down: " + ("clean" if not problems else f"{len(problems)} problem(s)"))
    return problems


def _nothing_to_remove(ctx: Context) -> list[str]:
    """No state here: the bridge and rules, if any, belong to a cluster with another state dir."""
    problems: list[str] = []
    if network.link_exists(NETWORK.bridge) or network.owned_rules():
        problems.append(
            f"no cluster state in {ctx.layout.state}, but bridge {NETWORK.bridge} or KUBE-/CNI-/TASKFLOW- "
            "iptables chains exist: they belong to a cluster with another state dir "
            "(TASKFLOW_CLUSTER_STATE); run `down` with that one. Left untouched."
        )
    ctx.say("down: " + ("nothing to remove" if not problems else "nothing removed"))
    return problems


def _veths_on_bridge() -> list[str]:
    proc = subprocess.run(
        ["ip", "-o", "link", "show", "master", NETWORK.bridge], capture_output=True, text=True, check=False
    )
    return [ln.split(":")[1].strip().split("@")[0] for ln in proc.stdout.splitlines() if ":" in ln]


def status(layout: Layout | None = None) -> tuple[bool, str]:
    """(all running, human-readable report)."""
    preflight.require_root()
    ctx = Context(layout or Layout.default())
    layout = ctx.layout
    lines: list[str] = []
    names = component.recorded_names(layout)
    if not names and not layout.state.exists():
        return False, "cluster: not created (run `up`)"
    healthy = True
    for name in start_order(layout) + [n for n in names if n not in start_order(layout)]:
        rec = component.running(layout, name)
        if rec is None:
            healthy = False
            lines.append(f"  {name:<26} NOT RUNNING (log: {layout.log(name)})")
        else:
            lines.append(f"  {name:<26} running  pid {rec.pid}")
    lines.append(
        f"  bridge {NETWORK.bridge:<19} {'present' if network.link_exists(NETWORK.bridge) else 'MISSING'}"
    )
    guard = network.guard_active(NETWORK)
    lines.append(f"  {'egress guard':<26} {'active' if guard else 'MISSING'}")
    healthy = healthy and guard
    if component.running(layout, "kube-apiserver") is not None:
        ctx.binaries.update(ensure_core(layout))
        reason = node_ready_reason(ctx)
        lines.append(f"  {'node':<26} {'Ready' if reason is None else reason}")
        healthy = healthy and reason is None
    rss = usage.rss_by_part(layout, load_manifest(layout).get("cgroup_root"))
    biggest = ", ".join(f"{k} {v // 1024}" for k, v in sorted(rss.items(), key=lambda kv: -kv[1])[:4])
    lines.append(f"  {'memory (RSS)':<26} {sum(rss.values()) // 1024} MiB in all (MiB: {biggest}, ...)")
    lines.insert(0, f"cluster: {'up' if healthy else 'DEGRADED'} (state {layout.state})")
    lines.append(f"kubeconfig: {layout.admin_kubeconfig}")
    lines.append(f"kubectl:    {layout.kubectl_link}")
    return healthy, "\n".join(lines)


def require_up(layout: Layout) -> None:
    if component.running(layout, "containerd") is None:
        raise ClusterError("the cluster is not running", "run `python -m harness.cluster up` first")
