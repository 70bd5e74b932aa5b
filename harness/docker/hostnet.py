"""What dockerd changes on the host's network, recorded before it starts and reverted after it
stops: iptables rules and chains (filter and nat), the FORWARD policy, net.ipv4.ip_forward and
the docker0 bridge. Measured here: dockerd 20.10 sets FORWARD to DROP when it turns forwarding
on, and leaves its DOCKER-* chains and docker0 behind when it stops."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

TABLES = ("filter", "nat")
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
BRIDGE = "docker0"


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", "-w", "5", *args], capture_output=True, text=True, check=False)


def rules(table: str) -> list[str]:
    """`iptables -S` lines of a table: `-P`, `-N` and `-A` lines, in order."""
    return _iptables("-t", table, "-S").stdout.splitlines()


def dockers(line: str) -> bool:
    """A rule or chain of dockerd's (others, like kube-proxy's, may change meanwhile: not ours)."""
    return "DOCKER" in line or BRIDGE in line


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode == 0


@dataclass(frozen=True)
class HostNetwork:
    """The parts of the host's network dockerd touches, as they were."""

    rules: dict[str, list[str]]
    ip_forward: str
    bridge_existed: bool

    @classmethod
    def record(cls) -> HostNetwork:
        return cls(
            rules={table: rules(table) for table in TABLES},
            ip_forward=IP_FORWARD.read_text().strip(),
            bridge_existed=link_exists(BRIDGE),
        )

    def changes(self) -> list[str]:
        """What differs now from the record (empty when the host is as it was)."""
        now = HostNetwork.record()
        found = []
        for table in TABLES:
            policies = [line for line in now.rules[table] if line.startswith("-P ")]
            found += [f"{table}: {line}" for line in policies if line not in self.rules[table]]
            added = [line for line in now.rules[table] if line not in self.rules[table] and dockers(line)]
            found += [f"{table}: {line}" for line in added]
        if now.ip_forward != self.ip_forward:
            found.append(f"net.ipv4.ip_forward {self.ip_forward} -> {now.ip_forward}")
        if now.bridge_existed and not self.bridge_existed:
            found.append(f"link {BRIDGE}")
        return found

    def revert(self, *, keep_ip_forward: bool) -> list[str]:
        """Put back what was recorded; returns what could not be (empty when clean).

        keep_ip_forward: another user of forwarding (the embedded cluster) came up meanwhile.
        """
        problems = []
        for table in TABLES:
            before = self.rules[table]
            now = rules(table)
            for line in now:
                if line.startswith("-P ") and line not in before:
                    chain = line.split()[1]
                    old = next((b for b in before if b.startswith(f"-P {chain} ")), None)
                    if old is not None:
                        _iptables("-t", table, *shlex.split(old))
            for line in reversed(now):
                if line.startswith("-A ") and line not in before and dockers(line):
                    done = _iptables("-t", table, "-D", *shlex.split(line)[1:])
                    if done.returncode != 0:
                        problems.append(f"{table}: could not delete {line}: {done.stderr.strip()}")
            for line in now:
                if line.startswith("-N ") and line not in before and dockers(line):
                    chain = line.split()[1]
                    _iptables("-t", table, "-F", chain)
                    done = _iptables("-t", table, "-X", chain)
                    if done.returncode != 0:
                        problems.append(f"{table}: could not remove chain {chain}: {done.stderr.strip()}")
        if not keep_ip_forward and IP_FORWARD.read_text().strip() != self.ip_forward:
            IP_FORWARD.write_text(self.ip_forward + "\n")
        if not self.bridge_existed and link_exists(BRIDGE):
            subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
        return problems + self.changes_except_ip_forward(keep_ip_forward)

    def changes_except_ip_forward(self, keep_ip_forward: bool) -> list[str]:
        left = self.changes()
        return [c for c in left if not (keep_ip_forward and c.startswith("net.ipv4.ip_forward"))]


def allow_bridged(bridge: str) -> list[str]:
    """With FORWARD at DROP, let traffic between ports of `bridge` (the embedded cluster's pods,
    which br_netfilter sends through FORWARD) pass, through dockerd's own DOCKER-USER chain."""
    rule = ["DOCKER-USER", "-i", bridge, "-o", bridge, "-j", "ACCEPT"]
    if _iptables("-C", *rule).returncode != 0:
        _iptables("-I", *rule)
    return rule
