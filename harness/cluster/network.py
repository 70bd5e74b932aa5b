"""The node's network: bridge with the node IP, a local route for the service CIDR, the guard
chain that keeps cluster traffic on the machine, and the sysctls routing needs.

Everything created is recorded so `down` can remove exactly that.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from .errors import ClusterError
from .settings import NETWORK, Network

SYSCTLS = {
    # pod -> ClusterIP -> pod is routed through the bridge's IP stack
    "net/ipv4/ip_forward": "1",
    # bridged pod-to-pod replies must pass conntrack to be un-DNATed
    "net/bridge/bridge-nf-call-iptables": "1",
}
IPTABLES = ("iptables", "ip6tables")
# Chain prefixes of everything the cluster creates (ours, kubelet/kube-proxy, CNI portmap).
OWNED_CHAIN_PREFIXES = ("TASKFLOW-", "KUBE-", "CNI-")


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise ClusterError(
            f"`{' '.join(argv)}` failed: {proc.stderr.strip()}",
            "the host needs iproute2, iptables and the bridge/netfilter kernel features",
        )
    return proc


def uplink() -> str:
    out = _run(["ip", "-o", "route", "show", "default"]).stdout.split()
    if "dev" not in out:
        raise ClusterError("no default route; cannot tell which device is the uplink", "")
    return out[out.index("dev") + 1]


def link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def ensure_bridge(net: Network = NETWORK) -> bool:
    """Create the bridge with the node IP; True if it was created now."""
    created = False
    if not link_exists(net.bridge):
        _run(["ip", "link", "add", net.bridge, "type", "bridge"])
        created = True
    addr = f"{net.node_ip}/{net.pod_prefix_len}"
    if addr not in _run(["ip", "-o", "addr", "show", "dev", net.bridge]).stdout:
        _run(["ip", "addr", "add", addr, "dev", net.bridge])
    _run(["ip", "link", "set", net.bridge, "up"])
    # Service CIDR stays local even while kube-proxy is not (yet) running.
    _run(["ip", "route", "replace", net.service_cidr, "dev", net.bridge, "src", net.node_ip])
    return created


def remove_bridge(net: Network = NETWORK) -> None:
    _run(["ip", "route", "del", net.service_cidr], check=False)
    if link_exists(net.bridge):
        _run(["ip", "link", "del", net.bridge])


def ensure_guard(net: Network = NETWORK) -> None:
    """DROP cluster-CIDR traffic that would leave through the uplink (first rule of FORWARD/OUTPUT)."""
    up = uplink()
    chain = net.guard_chain
    if _run(["iptables", "-n", "-L", chain], check=False).returncode != 0:
        _run(["iptables", "-N", chain])
    # Add missing rules only: flushing would open a window without the guard.
    for cidr in (net.pod_cidr, net.service_cidr):
        for direction in ("-d", "-s"):
            rule = [
                "-o", up, direction, cidr, "-j", "DROP",
                "-m", "comment", "--comment", "taskflow: cluster traffic stays on this machine",
            ]  # fmt: skip
            if _run(["iptables", "-C", chain, *rule], check=False).returncode != 0:
                _run(["iptables", "-A", chain, *rule])
    # Keep the jump first: kube-proxy and the kubelet insert their rules at the top too. Two
    # spellings of the jump alternate, so the new one goes in before the old one is deleted by
    # its spec (never by rule number, which moves while others edit the chain).
    spellings = (["-j", chain], ["-m", "comment", "--comment", "taskflow-guard", "-j", chain])
    for builtin in ("FORWARD", "OUTPUT"):
        first = _run(["iptables", "-S", builtin, "1"], check=False).stdout.strip()
        if first.startswith(f"-A {builtin} ") and first.endswith(f"-j {chain}"):
            continue
        present = [_run(["iptables", "-C", builtin, *sp], check=False).returncode == 0 for sp in spellings]
        new, old = (spellings[1], spellings[0]) if present[0] else (spellings[0], spellings[1])
        _run(["iptables", "-I", builtin, "1", *new])
        while _run(["iptables", "-D", builtin, *old], check=False).returncode == 0:
            pass


def guard_active(net: Network = NETWORK) -> bool:
    """Every DROP rule is there and each built-in chain jumps to the guard."""
    rules = _run(["iptables", "-S"], check=False).stdout.splitlines()
    jumps = {r.split()[1] for r in rules if r.startswith("-A ") and r.endswith(f"-j {net.guard_chain}")}
    drops = sum(1 for r in rules if r.startswith(f"-A {net.guard_chain} ") and r.endswith("-j DROP"))
    return {"FORWARD", "OUTPUT"} <= jumps and drops >= 4


def set_sysctls() -> dict[str, str]:
    """Apply SYSCTLS; returns the previous values of those that changed (for `down`)."""
    previous: dict[str, str] = {}
    for key, value in SYSCTLS.items():
        path = Path("/proc/sys") / key
        if not path.exists():
            raise ClusterError(
                f"kernel feature missing: /proc/sys/{key} does not exist",
                "the kernel needs bridge + br_netfilter built in (or loaded)",
            )
        old = path.read_text().strip()
        if old != value:
            path.write_text(value)
            previous[key] = old
    return previous


def restore_sysctls(previous: dict[str, str]) -> None:
    for key, value in previous.items():
        path = Path("/proc/sys") / key
        if path.exists():
            path.write_text(value)


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


def removal_script(save: str) -> str:
    """An `iptables-restore --noflush` script removing the owned chains found in `save` output."""
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
        elif line.startswith(":") and line[1:].startswith(OWNED_CHAIN_PREFIXES):
            chains.append(line[1:].split()[0])
        elif line.startswith("-A "):
            parts = shlex.split(line)
            target = parts[parts.index("-j") + 1] if "-j" in parts else ""
            if not parts[1].startswith(OWNED_CHAIN_PREFIXES) and target.startswith(OWNED_CHAIN_PREFIXES):
                jumps.append("-D" + line[2:])
    return "\n".join(script) + "\n" if script else ""


def remove_owned_chains() -> None:
    """Delete every rule jumping to an owned chain, then flush and delete the owned chains.

    One `iptables-restore --noflush` per binary: per-rule calls take ~15 s with kube-proxy's chains.
    """
    for tool in IPTABLES:
        script = removal_script(_run([f"{tool}-save"], check=False).stdout)
        if not script:
            continue
        proc = subprocess.run(
            [f"{tool}-restore", "--noflush"], input=script, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise ClusterError(
                f"{tool}-restore could not remove the cluster's rules: {proc.stderr.strip()[-400:]}",
                f"inspect `{tool}-save` and remove KUBE-*/CNI-*/TASKFLOW-* chains by hand",
            )
