"""The state dir, the baselines `up` records before its first change, and the revert of every
kind of journal entry (cluster/README.md, "What `up` changes on the host")."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path

from . import cgroups, component, mounts, network
from .errors import ClusterError
from .files import remove_stale_temps
from .journal import Entry, Journal
from .paths import Layout

# Host paths the runtime writes outside our state dir, hard-coded in containerd 1.7 (shim
# sockets), its CNI library (result cache) and the kubelet (container log links).
CONTAINERD_RUN = Path("/run/containerd")
CNI_RESULTS = Path("/var/lib/cni/results")
KUBELET_LOG_LINKS = Path("/var/log/containers")
HOST_DIRS = (CONTAINERD_RUN, CNI_RESULTS.parent, KUBELET_LOG_LINKS)
CNI_NETWORK = "taskflow"  # the name in our CNI config; its cache files carry it


def _pending_dirs(state: Path) -> list[Path]:
    return sorted(state.parent.glob(f".{state.name}.new-*")) if state.parent.is_dir() else []


def create_state_dir(layout: Layout) -> None:
    """Make the state dir (0700) with the journal in it in one step (a rename), so a kill
    never leaves a state dir nobody records; an empty existing one is adopted and recorded."""
    state = layout.state
    journal = Journal(layout.journal)
    if journal.exists():
        return
    if state.is_dir():  # empty: preflight refused anything else
        mode = stat.S_IMODE(state.stat().st_mode)
        journal.intend("state-dir", "state-dir", path=str(state), existed=True, mode=mode)
        state.chmod(0o700)
        return
    missing = [p for p in reversed(state.parents) if not p.exists()]
    journal_parents = [str(p) for p in missing]
    state.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    pending = state.parent / f".{state.name}.new-{os.getpid()}"
    pending.mkdir(mode=0o700)
    Journal(pending / layout.journal.name).intend(
        "state-dir", "state-dir", path=str(state), existed=False, parents=journal_parents
    )
    os.rename(pending, state)


def remove_pending_state_dirs(layout: Layout) -> None:
    """State dirs a kill left before their rename (they hold nothing but a journal)."""
    for pending in _pending_dirs(layout.state):
        if {p.name for p in pending.iterdir()} <= {layout.journal.name}:
            shutil.rmtree(pending)


def _listing(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    found: list[str] = []
    for directory, dirs, files in os.walk(root):
        found += [os.path.join(directory, n) for n in dirs + files]
    return sorted(found)


def record_baselines(journal: Journal, layout: Layout) -> None:
    """What is on the host before our first change: chains, host dirs, mounts, CNI cache."""
    journal.intend(
        "chains",
        "chains",
        before={tool: network.chain_names(tool) for tool in network.IPTABLES},
        nft=network.nft_chains(),
    )
    for path in HOST_DIRS:
        journal.intend(
            f"host-dir:{path}", "host-dir", path=str(path), existed=path.exists(), before=_listing(path)
        )
    roots = [str(layout.state), str(CONTAINERD_RUN)]
    journal.intend("mounts", "mounts", roots=roots, before=mounts.mounts_under(*map(Path, roots)))
    journal.intend("cni-cache", "cni-cache", path=str(CNI_RESULTS), before=_listing(CNI_RESULTS))


# --- revert ----------------------------------------------------------------------------------


def revert_order(entries: list[Entry]) -> list[Entry]:
    """The journal's entries in the order `down` undoes them: newest first, except that no cgroup
    root is removed while a recorded process may still run.

    A root recorded by a later `up` (the kubelet restarted from another cgroup, e.g. another CI
    step) sits after every process in the journal; removed first, the still-running kubelet
    recreates its tree at once and the older root's shared parent stays busy (CI, 2026-11-29).
    Deferred roots keep their newest-first order, so a newer root goes before the parent it shares.
    """
    order = list(reversed(entries))
    last_process = max((i for i, e in enumerate(order) if e.get("kind") == "process"), default=-1)
    head = order[: last_process + 1]
    deferred = [e for e in head if e.get("kind") == "cgroup"]
    return [e for e in head if e.get("kind") != "cgroup"] + deferred + order[last_process + 1 :]


def revert(entry: Entry, layout: Layout, kill_containers: Callable[[], None]) -> list[str]:
    """Undo one recorded change; returns problems for a person (empty when done)."""
    kind = entry["kind"]
    if kind == "process":
        return _revert_process(entry, layout, kill_containers)
    if kind == "sysctl":
        problem = network.restore_sysctl(entry["key"], entry["previous"], entry["set_to"])
        return [problem] if problem else []
    if kind == "route":
        network.remove_route(entry["dst"], entry["dev"])
    elif kind == "link":
        network.remove_link(entry["name"])
    elif kind == "guard":
        network.remove_guard()
    elif kind == "cgroup":
        return [
            f"cgroup still present: {d}" for d in cgroups.remove_recorded(entry["root"], entry["existing"])
        ]
    elif kind == "chains":
        for tool, before in entry["before"].items():
            network.remove_runtime_chains(tool, before)
        network.remove_new_empty_nft_chains(entry.get("nft", []))
    elif kind == "mounts":
        left = mounts.unmount_new([Path(r) for r in entry["roots"]], entry["before"], layout.state)
        return [f"mount still present: {m}" for m in left]
    elif kind == "cni-cache":
        _remove_cni_cache(Path(entry["path"]), set(entry["before"]), layout)
    elif kind == "host-dir":
        return _revert_host_dir(Path(entry["path"]), bool(entry["existed"]), set(entry["before"]), layout)
    elif kind == "state-dir":
        return _revert_state_dir(entry, layout)
    else:
        return [f"unknown change {entry['id']} in {layout.journal}: revert it by hand"]
    return []


def _revert_process(entry: Entry, layout: Layout, kill_containers: Callable[[], None]) -> list[str]:
    name = entry["name"]
    if component.running(layout, name) is None:
        # started, then a kill before its pid file: adopt it (our containerd must answer below)
        found = component.orphans(entry["argv"], {os.getpid()})
        if len(found) == 1:
            component.adopt(layout, name, found[0])
    if name == "containerd":
        kill_containers()
    problems: list[str] = []
    try:
        component.stop(layout, name)
        for orphan in component.orphans(entry["argv"], {os.getpid()}):
            component.terminate(orphan, name)
    except ClusterError as exc:
        problems.append(exc.cause)
    return problems


def _sandbox_ids(layout: Layout, names: set[str]) -> set[str]:
    ids = {n[len(CNI_NETWORK) + 1 :].rsplit("-", 1)[0] for n in names if n.startswith(f"{CNI_NETWORK}-")}
    for base in (layout.containerd_state, layout.containerd_root):
        sandboxes = base / "io.containerd.grpc.v1.cri" / "sandboxes"
        if sandboxes.is_dir():
            ids.update(p.name for p in sandboxes.iterdir())
    return ids


def _remove_cni_cache(results: Path, before: set[str], layout: Layout) -> None:
    """Our network's result files and the loopback ones of our sandboxes; others' stay."""
    if not results.is_dir():
        return
    new = {p.name for p in results.iterdir() if str(p) not in before}
    ids = _sandbox_ids(layout, new)
    for name in new:
        ours = name.startswith(f"{CNI_NETWORK}-") or (
            name.startswith("cni-loopback-") and name[len("cni-loopback-") :].rsplit("-", 1)[0] in ids
        )
        if ours:
            (results / name).unlink(missing_ok=True)


def _bound_unix_sockets() -> set[str]:
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {ln.split()[-1] for ln in lines if len(ln.split()) >= 8}


def _revert_host_dir(root: Path, existed: bool, before: set[str], layout: Layout) -> list[str]:
    """Remove what appeared under `root` that is ours: links into our state dir, sockets nobody
    listens on any more (our shims'), then the dirs left empty; anything else stays."""
    if not root.is_dir():
        return []
    bound = _bound_unix_sockets()
    state_prefix = str(layout.state).rstrip("/") + "/"
    new = [Path(p) for p in _listing(root) if p not in before]
    for path in sorted(new, key=lambda p: -len(p.parts)):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        link_to_state = stat.S_ISLNK(info.st_mode) and os.readlink(path).startswith(state_prefix)
        dead_socket = stat.S_ISSOCK(info.st_mode) and str(path) not in bound and not _answers(path)
        if link_to_state or dead_socket:
            path.unlink()
        elif stat.S_ISDIR(info.st_mode):
            with contextlib.suppress(OSError):  # not empty: someone else's things are in it
                path.rmdir()
    if not existed:
        try:
            root.rmdir()
        except OSError:
            return [f"{root} was created by `up` but holds files of someone else now; left in place"]
    return []


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def _revert_state_dir(entry: Entry, layout: Layout) -> list[str]:
    state = layout.state
    left = mounts.mounts_under(state)
    if left:
        return [f"state dir {state} kept: mounts remain under it ({left[0]}, ...)"]
    remove_stale_temps(state)
    if entry.get("existed"):
        for child in state.iterdir():
            if child.is_dir() and not child.is_symlink():
                _rmtree(child)
            else:
                child.unlink()
        state.chmod(int(entry.get("mode", 0o700)))
    else:
        _rmtree(state)
        for parent in reversed([Path(p) for p in entry.get("parents", [])]):
            try:
                parent.rmdir()
            except OSError:
                break
    return []


def _rmtree(path: Path) -> None:
    # a container's files may be read-only or immutable-looking for a moment after its kill
    for attempt in range(3):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if attempt == 2:
                raise
            time.sleep(0.2)


def unjournaled_leftovers(layout: Layout) -> list[str]:
    """No journal: what of a cluster is on this host anyway (it belongs to another state dir)."""
    found: list[str] = []
    if network.link_exists("tfbr0"):
        found.append("bridge tfbr0")
    if network.owned_rules():
        found.append("KUBE-/CNI-/TASKFLOW- iptables chains")
    return found


# --- state of the version before the journal ----------------------------------------------


def adopt_legacy(layout: Layout) -> bool:
    """A state dir of the version before the journal (`created.json`, no journal): write the
    journal that version would have written, from its record and the running processes, so
    `up` continues the running cluster and `down` reverts it. True when it did so.

    What it cannot know: the chains that existed before it (KUBE-*/CNI-* are taken as its),
    and the previous values of the kubelet's sysctls when they still hold the kubelet's value.
    """
    journal = Journal(layout.journal)
    if journal.exists() or not layout.manifest.exists():
        return False
    facts = json.loads(layout.manifest.read_text())
    journal.intend("state-dir", "state-dir", path=str(layout.state), existed=False, parents=[])
    before = {
        tool: {
            t: [n for n in names if not n.startswith(network.OWNED_CHAIN_PREFIXES)]
            for t, names in tables.items()
        }
        for tool, tables in ((tool, network.chain_names(tool)) for tool in network.IPTABLES)
    }
    journal.intend("chains", "chains", before=before, nft=network.nft_chains())
    preexisting = facts.get("host_dirs_preexisting", {})
    for path in HOST_DIRS:
        journal.intend(
            f"host-dir:{path}",
            "host-dir",
            path=str(path),
            existed=preexisting.get(str(path), True),
            before=[],
        )
    roots = [str(layout.state), str(CONTAINERD_RUN)]
    journal.intend("mounts", "mounts", roots=roots, before=mounts.mounts_under(CONTAINERD_RUN))
    journal.intend("cni-cache", "cni-cache", path=str(CNI_RESULTS), before=[])
    journal.intend("guard", "guard", chains=[c.name for c in network.guard_chains()])
    root = facts.get("cgroup_root")
    if root:
        created = set(facts.get("cgroup_dirs_created", []))
        existing = [d for d in cgroups.path_dirs(root) if d not in created and Path(d).is_dir()]
        journal.intend(f"cgroup:{root}", "cgroup", root=root, existing=existing)
    for key, previous in facts.get("sysctls_previous", {}).items():
        wanted = network.SYSCTLS.get(key, network.read_sysctl(key) or previous)
        journal.intend(f"sysctl:{key}", "sysctl", key=key, previous=previous, set_to=wanted, by="taskflow")
    if network.link_exists("tfbr0") and facts.get("bridge_created", True):
        journal.intend("link:tfbr0", "link", name="tfbr0")
    for dst in ("10.96.0.0/16",):
        if network.route_via(dst, "tfbr0"):
            journal.intend(f"route:{dst}", "route", dst=dst, dev="tfbr0")
    for by, wanted in (("kubelet", network.KUBELET_SYSCTLS), ("kube-proxy", network.KUBE_PROXY_SYSCTLS)):
        for key, value in wanted.items():
            current = network.read_sysctl(key)
            if current is not None and current != value:  # else its previous value is lost
                journal.intend(f"sysctl:{key}", "sysctl", key=key, previous=current, set_to=value, by=by)
    order = [*start_order_names(layout), *component.recorded_names(layout)]
    for name in dict.fromkeys(order):
        rec = component.read_pid(layout, name)
        if rec is not None and rec.alive():
            argv = Path(f"/proc/{rec.pid}/cmdline").read_bytes().decode().split("\0")[:-1]
            journal.intend(f"process:{name}", "process", name=name, argv=argv)
    return True


def start_order_names(layout: Layout) -> list[str]:
    try:
        return (layout.pids / "start-order").read_text().split()
    except OSError:
        return []
