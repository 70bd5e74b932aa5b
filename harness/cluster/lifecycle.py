"""up, down and status of the embedded cluster."""

from __future__ import annotations

import importlib
import subprocess
import time
from pathlib import Path

from harness import locks

from . import component, hoststate, network, preflight, usage, users
from .actions import Action
from .build import ensure_core
from .context import Context, load_manifest, start_order
from .core import CORE_ACTIONS, node_ready_reason
from .core_components import containerd
from .errors import ClusterError
from .paths import Layout
from .settings import NETWORK

# where the runtime writes outside our state dir (kept here for the tests that check them)
CONTAINERD_RUN = hoststate.CONTAINERD_RUN
CNI_RESULTS = hoststate.CNI_RESULTS
KUBELET_LOG_LINKS = hoststate.KUBELET_LOG_LINKS


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
    if hoststate.adopt_legacy(layout):
        ctx.say(f"state of the previous version adopted: {layout.journal} written")
    steps = CORE_ACTIONS + (addon_actions(bare) if with_addons else [])
    for step in steps:
        ctx.say(f"== {step.name}")
        step.run(ctx)
    ctx.say(f"cluster up; kubeconfig: {ctx.layout.admin_kubeconfig}")
    return ctx.layout.admin_kubeconfig


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
        listed = _ctr(layout, "tasks", "ls")
        if listed.returncode != 0:
            # the cgroup step kills what is left below the kubelet's root
            ctx.say(f"containerd did not list its tasks: {listed.stderr.strip()[:200]}")
            break
        rows = [ln.split() for ln in listed.stdout.splitlines()[1:]]
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
    hoststate.remove_pending_state_dirs(layout)
    if hoststate.adopt_legacy(layout):
        ctx.say(f"state of the previous version adopted: {layout.journal} written")
    journal = ctx.journal
    if not journal.exists():
        return _nothing_to_remove(ctx)
    problems: list[str] = []
    if component.running(layout, "kube-apiserver") is not None:
        for step in reversed(CORE_ACTIONS + addon_actions()):
            if step.undo is not None:
                try:
                    step.undo(ctx)
                except Exception as exc:  # an add-on's undo must not block the teardown
                    problems.append(f"undo of {step.name} failed: {exc}")
    for entry in hoststate.revert_order(journal.entries()):
        try:
            found = hoststate.revert(entry, layout, lambda: _kill_containers(ctx))
        except (ClusterError, OSError) as exc:
            found = [f"could not revert {entry['id']}: {exc}"]
        if found:
            problems += found  # kept in the journal: the next `down` tries again
            continue
        ctx.say(f"reverted {entry['id']}")
        if entry["kind"] != "state-dir":  # that revert removed the journal with the dir
            journal.forget(entry["id"])
    ctx.say("down: " + ("clean" if not problems else f"{len(problems)} problem(s)"))
    return problems


def _nothing_to_remove(ctx: Context) -> list[str]:
    """No journal here: the bridge and rules, if any, belong to a cluster with another state dir."""
    problems: list[str] = []
    leftovers = hoststate.unjournaled_leftovers(ctx.layout)
    if leftovers:
        problems.append(
            f"no cluster record in {ctx.layout.state}, but {' and '.join(leftovers)} exist: they belong to "
            "a cluster with another state dir (TASKFLOW_CLUSTER_STATE), or an older version's; run `down` "
            "with that one. Left untouched."
        )
    ctx.say("down: " + ("nothing to remove" if not problems else "nothing removed"))
    return problems


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
    if not guard and layout.journal.exists():
        network.ensure_guard(NETWORK)  # re-asserted: something removed or reordered it
        lines.append(f"  {'guard':<26} was MISSING; put back")
    else:
        lines.append(f"  {'guard':<26} {'active' if guard else 'MISSING'}")
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
