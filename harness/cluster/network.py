"""The node's network: the guard (an allow-list that keeps cluster traffic on this machine),
the bridge with the node IP, a local route for the service CIDR, and the sysctls routing needs.

Every change is recorded in the journal before it is made; `down` reverts exactly those.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ClusterError
from .journal import Journal
from .settings import NETWORK, Network

# key -> value the cluster needs (set by us, recorded first)
SYSCTLS = {
    # pod -> ClusterIP -> pod is routed through the bridge's IP stack
    "net/ipv4/ip_forward": "1",
    # bridged pod-to-pod replies must pass conntrack to be un-DNATed
    "net/bridge/bridge-nf-call-iptables": "1",
}
# Set by the kubelet itself at start (protectKernelDefaults: false); recorded before it starts.
KUBELET_SYSCTLS = {
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
}
# Set by kube-proxy (iptables mode) when it starts; conntrack sysctls stay alone (config: 0).
KUBE_PROXY_SYSCTLS = {
    "net/ipv4/conf/all/route_localnet": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
}
IPTABLES = ("iptables", "ip6tables")
TABLES = ("filter", "nat", "mangle", "raw", "security")
# Chains the kubelet, kube-proxy and the CNI portmap plugin create; another Kubernetes on this
# host would own chains with these names too, so `up` refuses when it finds some not ours.
RUNTIME_CHAIN_PREFIXES = ("KUBE-", "CNI-")
OWNED_CHAIN_PREFIXES = ("TASKFLOW-", *RUNTIME_CHAIN_PREFIXES)


def _run(argv: list[str], check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False, timeout=60)
    if check and proc.returncode != 0:
        raise ClusterError(
            f"`{' '.join(argv)}` failed: {proc.stderr.strip()[-400:]}",
            "the host needs iproute2, iptables and the bridge/netfilter kernel features",
        )
    return proc


def uplink() -> str:
    out = _run(["ip", "-o", "route", "show", "default"], check=False).stdout.split()
    return out[out.index("dev") + 1] if "dev" in out else "(no default route)"


def link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


# --- the guard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardChain:
    name: str
    hook: str  # built-in chain that jumps to it first
    allowed: tuple[tuple[str, ...], ...]  # match specs that RETURN (are allowed)


def guard_chains(net: Network = NETWORK) -> list[GuardChain]:
    """Cluster-CIDR traffic may only use our bridge and loopback, in every direction."""
    br = net.bridge
    return [
        GuardChain(f"{net.guard_chain}-IN", "INPUT", (("-i", "lo"), ("-i", br))),
        GuardChain(f"{net.guard_chain}-FWD", "FORWARD", (("-i", br, "-o", br),)),
        GuardChain(f"{net.guard_chain}-OUT", "OUTPUT", (("-o", "lo"), ("-o", br))),
    ]


def guard_script(current_rules: str, net: Network = NETWORK) -> str:
    """One atomic `iptables-restore --noflush` transaction: (re)fill the guard chains and make
    the jump to each the first rule of its built-in chain. Declaring a chain flushes it inside
    the same commit, so there is no moment without the guard."""
    lines = ["*filter"]
    chains = guard_chains(net)
    lines += [f":{c.name} - [0:0]" for c in chains]
    for chain in chains:
        for spec in chain.allowed:
            lines.append(f"-A {chain.name} {' '.join(spec)} -j RETURN")
        for cidr in (net.pod_cidr, net.service_cidr):
            for direction in ("-s", "-d"):
                lines.append(
                    f"-A {chain.name} {direction} {cidr} -m comment --comment "
                    f'"taskflow: cluster traffic stays on this machine" -j DROP'
                )
    for rule in current_rules.splitlines():
        words = rule.split()
        if (
            len(words) >= 4
            and words[0] == "-A"
            and words[-2] == "-j"
            and words[-1] in {c.name for c in chains}
        ):
            lines.append("-D" + rule[2:])
    lines += [f"-I {c.hook} 1 -j {c.name}" for c in chains]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def ensure_guard(net: Network = NETWORK) -> None:
    current = _run(["iptables", "-w", "5", "-S"], check=False).stdout
    if guard_active(net, current):
        return
    _run(["iptables-restore", "-w", "5", "--noflush"], stdin=guard_script(current, net))


def guard_active(net: Network = NETWORK, rules: str | None = None) -> bool:
    """Each guard chain holds exactly its rules and is the first rule of its built-in chain."""
    if rules is None:
        rules = _run(["iptables", "-w", "5", "-S"], check=False).stdout
    lines = rules.splitlines()
    for chain in guard_chains(net):
        firsts = [ln for ln in lines if ln.startswith(f"-A {chain.hook} ")][:1]
        if firsts != [f"-A {chain.hook} -j {chain.name}"]:
            return False
        have = [ln for ln in lines if ln.startswith(f"-A {chain.name} ")]
        want = [ln for ln in guard_script("", net).splitlines() if ln.startswith(f"-A {chain.name} ")]
        if len(have) != len(want):
            return False
    return True


def runtime_jumps_missing() -> str | None:
    """None once INPUT, FORWARD and OUTPUT each jump to a KUBE-* chain (kube-proxy synced)."""
    rules = _run(["iptables", "-w", "5", "-S"], check=False).stdout.splitlines()
    missing = [
        hook for hook in ("INPUT", "FORWARD", "OUTPUT")
        if not any(r.startswith(f"-A {hook} ") and " -j KUBE-" in r for r in rules)
    ]  # fmt: skip
    return f"no KUBE-* jump in {', '.join(missing)} yet" if missing else None


def remove_guard(net: Network = NETWORK) -> None:
    current = _run(["iptables", "-w", "5", "-S"], check=False).stdout
    names = {c.name for c in guard_chains(net)} | {net.guard_chain}  # and the previous version's
    present = [ln for ln in current.splitlines() if ln.startswith("-N ") and ln.split()[1] in names]
    if not present:
        return
    script = ["*filter"]
    for rule in current.splitlines():
        words = rule.split()
        if len(words) >= 4 and words[0] == "-A" and words[-2] == "-j" and words[-1] in names:
            script.append("-D" + rule[2:])
    for line in present:
        script += [f"-F {line.split()[1]}", f"-X {line.split()[1]}"]
    _run(["iptables-restore", "-w", "5", "--noflush"], stdin="\n".join([*script, "COMMIT"]) + "\n")


# --- bridge and route ------------------------------------------------------------------------


def ensure_bridge(journal: Journal, net: Network = NETWORK) -> None:
    """Create the bridge with the node IP and the service route (each recorded first)."""
    if not link_exists(net.bridge):
        journal.intend(f"link:{net.bridge}", "link", name=net.bridge)
        _run(["ip", "link", "add", net.bridge, "type", "bridge"])
    addr = f"{net.node_ip}/{net.pod_prefix_len}"
    if addr not in _run(["ip", "-o", "addr", "show", "dev", net.bridge]).stdout:
        _run(["ip", "addr", "add", addr, "dev", net.bridge])
    _run(["ip", "link", "set", net.bridge, "up"])
    # Service CIDR stays local even while kube-proxy is not (yet) running.
    if not route_via(net.service_cidr, net.bridge):
        journal.intend(f"route:{net.service_cidr}", "route", dst=net.service_cidr, dev=net.bridge)
        _run(["ip", "route", "add", net.service_cidr, "dev", net.bridge, "src", net.node_ip])


def route_via(dst: str, dev: str) -> bool:
    out = _run(["ip", "-o", "route", "show", "exact", dst], check=False).stdout.split()
    return "dev" in out and out[out.index("dev") + 1] == dev


def remove_route(dst: str, dev: str) -> None:
    if route_via(dst, dev):
        _run(["ip", "route", "del", dst, "dev", dev])


def remove_link(name: str) -> None:
    """The bridge, and the veths still attached to it (their pods are gone by now)."""
    if not link_exists(name):
        return
    for veth in links_on(name):
        _run(["ip", "link", "del", veth], check=False)
    _run(["ip", "link", "del", name])


def links_on(bridge: str) -> list[str]:
    proc = _run(["ip", "-o", "link", "show", "master", bridge], check=False)
    return [ln.split(":")[1].strip().split("@")[0] for ln in proc.stdout.splitlines() if ":" in ln]


ROUTE_TYPES = (
    "local",
    "broadcast",
    "unreachable",
    "blackhole",
    "prohibit",
    "throw",
    "multicast",
    "anycast",
    "unicast",
)


def overlapping_routes(cidrs: Iterable[str], route_table: str, ours: str | None) -> list[str]:
    """Lines of `ip -o -4 route show table all` in the cluster CIDRs, except those on the
    device `ours` (our own bridge on a warm `up`)."""
    nets = [ipaddress.ip_network(c) for c in cidrs]
    found: list[str] = []
    for line in route_table.splitlines():
        words = line.split()
        if not words or words[0] == "default":
            continue
        dst = words[1] if words[0] in ROUTE_TYPES and len(words) > 1 else words[0]
        dev = words[words.index("dev") + 1] if "dev" in words[:-1] else ""
        try:
            route = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if route.version == 4 and dev != ours and any(route.overlaps(n) for n in nets):
            found.append(" ".join(words[: words.index("proto")] if "proto" in words else words))
    return found


# --- sysctls ---------------------------------------------------------------------------------


def read_sysctl(key: str) -> str | None:
    try:
        return (Path("/proc/sys") / key).read_text().strip()
    except OSError:
        return None


def record_sysctls(journal: Journal, wanted: dict[str, str], by: str) -> None:
    """Record the previous value of every key `by` will set (before it runs)."""
    for key, value in wanted.items():
        previous = read_sysctl(key)
        if previous is not None:
            journal.intend(f"sysctl:{key}", "sysctl", key=key, previous=previous, set_to=value, by=by)


def set_sysctls(journal: Journal) -> None:
    record_sysctls(journal, SYSCTLS, "taskflow")
    for key, value in SYSCTLS.items():
        if read_sysctl(key) is None:
            raise ClusterError(
                f"kernel feature missing: /proc/sys/{key} does not exist",
                "the kernel needs bridge + br_netfilter built in (or loaded)",
            )
        if read_sysctl(key) != value:
            (Path("/proc/sys") / key).write_text(value)


def restore_sysctl(key: str, previous: str, set_to: str) -> str | None:
    """Put `previous` back if the value is still the one the cluster set; else say why not."""
    current = read_sysctl(key)
    if current is None or current == previous:
        return None
    if current != set_to:
        return f"sysctl {key} is {current}, not the cluster's {set_to}: someone else changed it; left alone"
    (Path("/proc/sys") / key).write_text(previous)
    return None


# --- chains the runtime creates --------------------------------------------------------------


def chain_names(tool: str) -> dict[str, list[str]]:
    """table -> user chain names, from `<tool>-save` (all tables that exist)."""
    save = _run([f"{tool}-save"], check=False).stdout
    result: dict[str, list[str]] = {}
    table = ""
    for line in save.splitlines():
        if line.startswith("*"):
            table = line[1:]
            result.setdefault(table, [])
        elif line.startswith(":") and table:
            name = line[1:].split()[0]
            if name not in ("INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"):
                result[table].append(name)
    return result


def foreign_runtime_chains(baseline: dict[str, dict[str, list[str]]] | None = None) -> list[str]:
    """KUBE-*/CNI-* chains not in `baseline` (tool -> table -> names): another Kubernetes or CNI
    runtime on this host."""
    found: list[str] = []
    for tool in IPTABLES:
        for table, names in chain_names(tool).items():
            known = set((baseline or {}).get(tool, {}).get(table, []))
            found += [f"{tool} -t {table} {n}" for n in names if n.startswith("KUBE-") and n not in known]
    return found


def removal_script(save: str, keep: Iterable[str] = ()) -> str:
    """An `iptables-restore --noflush` script removing the runtime chains in `save` that are not
    in `keep` (per table: "table/chain"), and the rules of other chains that jump to them."""
    keep_set = set(keep)
    script: list[str] = []
    jumps: list[str] = []
    chains: list[str] = []
    table = ""
    for line in save.splitlines():
        if line.startswith("*"):
            table, jumps, chains = line[1:], [], []
        elif line == "COMMIT" and (jumps or chains):
            script += [f"*{table}", *jumps]
            script += [f"-F {c}" for c in chains] + [f"-X {c}" for c in chains] + ["COMMIT"]
        elif line.startswith(":"):
            name = line[1:].split()[0]
            if name.startswith(RUNTIME_CHAIN_PREFIXES) and f"{table}/{name}" not in keep_set:
                chains.append(name)
        elif line.startswith("-A "):
            parts = shlex.split(line)
            target = parts[parts.index("-j") + 1] if "-j" in parts else ""
            ours = target.startswith(RUNTIME_CHAIN_PREFIXES) and f"{table}/{target}" not in keep_set
            source_ours = (
                parts[1].startswith(RUNTIME_CHAIN_PREFIXES) and f"{table}/{parts[1]}" not in keep_set
            )
            if ours and not source_ours:
                jumps.append("-D" + line[2:])
    return "\n".join(script) + "\n" if script else ""


IPTABLES_NFT_TABLES = {"ip": "iptables", "ip6": "ip6tables"}
BUILTIN_CHAINS = ("INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING")


def nft_chains() -> list[str]:
    """`family table chain` of every nftables chain, and `family table` of every table
    ([] without the nft tool: iptables-nft's own leftovers then stay)."""
    if shutil.which("nft") is None:
        return []
    proc = _run(["nft", "-j", "list", "chains"], check=False)
    try:
        items = json.loads(proc.stdout).get("nftables", [])
    except ValueError:
        return []
    chains = [c["chain"] for c in items if "chain" in c]
    found = {f"{c['family']} {c['table']}" for c in chains}
    found.update(f"{c['family']} {c['table']} {c['name']}" for c in chains)
    tables = _run(["nft", "list", "tables"], check=False).stdout.splitlines()
    found.update(ln.removeprefix("table ").strip() for ln in tables if ln.startswith("table "))
    return sorted(found)


def remove_new_empty_nft_chains(before: list[str]) -> None:
    """iptables-nft creates a table and its base chains on first use and never removes them:
    delete those made during our run while they hold no rule (policy ACCEPT, as made)."""
    known = set(before)
    current = set(nft_chains())
    for family, tool in IPTABLES_NFT_TABLES.items():
        for table in TABLES:
            key = f"{family} {table}"
            if key not in current:
                continue
            save = _run([f"{tool}-save", "-t", table], check=False).stdout.splitlines()
            policies = {ln[1:].split()[0]: ln[1:].split()[1] for ln in save if ln.startswith(":")}
            used = {ln.split()[1] for ln in save if ln.startswith("-A ")}
            present = [c for c in policies if f"{key} {c}" in current]
            empty = [c for c in present if c in BUILTIN_CHAINS and policies[c] == "ACCEPT" and c not in used]
            if key not in known:
                if len(empty) == len(present):
                    _run(["nft", "delete", "table", family, table], check=False)
                continue  # made during our run, but someone uses it now
            for chain in empty:
                if f"{key} {chain}" not in known:
                    _run(["nft", "delete", "chain", family, table, chain], check=False)


def remove_runtime_chains(tool: str, baseline: dict[str, list[str]]) -> None:
    """Remove the KUBE-*/CNI-* chains that were not there before `up` (baseline: table -> names)."""
    keep = [f"{table}/{name}" for table, names in baseline.items() for name in names]
    script = removal_script(_run([f"{tool}-save"], check=False).stdout, keep)
    if not script:
        return
    proc = _run([f"{tool}-restore", "-w", "5", "--noflush"], check=False, stdin=script)
    if proc.returncode != 0:
        raise ClusterError(
            f"{tool}-restore could not remove the cluster's chains: {proc.stderr.strip()[-400:]}",
            f"inspect `{tool}-save` and remove the KUBE-*/CNI-* chains the cluster added by hand",
        )


def owned_rules() -> dict[str, list[str]]:
    """`iptables-save` lines that belong to the cluster, per binary (for status and tests)."""
    found: dict[str, list[str]] = {}
    for tool in IPTABLES:
        proc = _run([f"{tool}-save"], check=False)
        lines = [
            ln
            for ln in proc.stdout.splitlines()
            if any(p in ln for p in OWNED_CHAIN_PREFIXES) and not ln.startswith("#")
        ]
        if lines:
            found[tool] = lines
    return found
