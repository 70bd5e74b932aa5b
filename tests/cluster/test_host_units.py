"""Fast checks of the host-safety code: the journal, files, guard, preflight parsing, PKI renewal,
process identity and the reverts that must leave other runtimes' things alone. No cluster."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

from harness.cluster import component, configs, files, hoststate, network, pki, preflight
from harness.cluster.journal import Journal
from harness.cluster.paths import Layout

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root")
# `nox -s tests` installs iptables and nftables as root (harness/hostpackages.py); elsewhere these skip
NEEDS_IPTABLES = pytest.mark.skipif(
    shutil.which("iptables-save") is None, reason="needs iptables (`apt-get install iptables`)"
)


def test_journal_keeps_the_first_previous_value_and_forgets_reverted_entries(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "host-changes.json")
    journal.intend("sysctl:a", "sysctl", key="a", previous="0", set_to="1")
    journal.intend("sysctl:a", "sysctl", key="a", previous="1", set_to="1")  # a second `up`
    journal.intend("link:x", "link", name="x")
    assert [e["id"] for e in journal.entries()] == ["sysctl:a", "link:x"]
    assert journal.get("sysctl:a") == {
        "id": "sysctl:a",
        "kind": "sysctl",
        "key": "a",
        "previous": "0",
        "set_to": "1",
    }
    journal.forget("link:x")
    assert [e["id"] for e in journal.entries()] == ["sysctl:a"]
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["host-changes.json"]  # no temp file left


def test_down_removes_no_cgroup_root_before_every_process_is_stopped() -> None:
    # the second root was recorded by an `up` that restarted the kubelet from another cgroup
    entries = [
        {"id": "sysctl:a", "kind": "sysctl"},
        {"id": "cgroup:/p/A/taskflow", "kind": "cgroup"},
        {"id": "process:containerd", "kind": "process"},
        {"id": "process:kubelet", "kind": "process"},
        {"id": "mounts", "kind": "mounts"},
        {"id": "cgroup:/p/B/taskflow", "kind": "cgroup"},
    ]
    order = [e["id"] for e in hoststate.revert_order(entries)]
    assert order == [
        "mounts",
        "process:kubelet",
        "process:containerd",
        "cgroup:/p/B/taskflow",
        "cgroup:/p/A/taskflow",
        "sysctl:a",
    ]
    # one root, recorded before the processes as `up` does: plain newest-first
    usual = [entries[0], entries[1], entries[2], entries[3]]
    assert hoststate.revert_order(usual) == list(reversed(usual))


def test_private_files_are_0600_from_the_first_byte_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        files.write_private(tmp_path / "key", b"secret")
        files.write_atomic(tmp_path / "crt", b"public")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "crt").stat().st_mode) == 0o644


def test_guard_script_allows_bridge_and_loopback_then_drops_both_directions() -> None:
    old_jump = "-A FORWARD -j TASKFLOW-GUARD-FWD"
    script = network.guard_script(f"-A FORWARD -j KUBE-FORWARD\n{old_jump}\n").splitlines()
    fwd = [ln for ln in script if ln.startswith("-A TASKFLOW-GUARD-FWD ")]
    assert fwd[0] == "-A TASKFLOW-GUARD-FWD -i tfbr0 -o tfbr0 -j RETURN"
    assert [ln.split()[2:4] for ln in fwd[1:]] == [
        ["-s", "10.244.0.0/24"], ["-d", "10.244.0.0/24"], ["-s", "10.96.0.0/16"], ["-d", "10.96.0.0/16"],
    ]  # fmt: skip
    assert all(ln.endswith("-j DROP") for ln in fwd[1:])
    assert "-D FORWARD -j TASKFLOW-GUARD-FWD" in script  # the old jump goes in the same commit
    assert script.index(":TASKFLOW-GUARD-FWD - [0:0]") < script.index("-I FORWARD 1 -j TASKFLOW-GUARD-FWD")
    assert script[-1] == "COMMIT"


@ROOT_ONLY
@NEEDS_IPTABLES
def test_guard_is_installed_reasserted_and_removed_in_a_scratch_netns() -> None:
    code = (
        "import subprocess\n"
        "from harness.cluster import network\n"
        "network.ensure_guard()\n"
        "assert network.guard_active()\n"
        "subprocess.run(['iptables', '-I', 'FORWARD', '1', '-j', 'ACCEPT'], check=True)\n"
        "assert not network.guard_active()\n"
        "network.ensure_guard()\n"
        "assert network.guard_active()\n"
        "assert subprocess.run(['iptables', '-S', 'FORWARD'], capture_output=True, text=True).stdout"
        ".count('TASKFLOW-GUARD-FWD') == 1\n"
        "network.remove_guard()\n"
        "assert 'TASKFLOW' not in subprocess.run(['iptables-save'], capture_output=True, text=True).stdout\n"
    )
    subprocess.run(["unshare", "-n", sys.executable, "-c", code], check=True, timeout=60)


def test_overlapping_routes_names_routes_in_the_cluster_cidrs_except_our_bridge() -> None:
    table = "\n".join(
        [
            "default via 192.0.2.1 dev eth0",
            "10.0.0.0/8 dev wg0 proto static scope link",
            "10.244.0.0/24 dev tfbr0 proto kernel scope link src 10.244.0.1",
            "local 10.244.0.1 dev tfbr0 table local proto kernel scope host src 10.244.0.1",
            "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2",
        ]
    )
    cidrs = ("10.244.0.0/24", "10.96.0.0/16")
    assert network.overlapping_routes(cidrs, table, ours="tfbr0") == ["10.0.0.0/8 dev wg0"]
    assert len(network.overlapping_routes(cidrs, table, ours=None)) == 3


def test_runtime_chains_of_before_up_are_kept() -> None:
    save = "\n".join(
        [
            "*filter",
            ":FORWARD ACCEPT [0:0]",
            ":CNI-FORWARD - [0:0]",
            ":CNI-HOSTPORT-DNAT - [0:0]",
            "-A FORWARD -j CNI-FORWARD",
            "-A FORWARD -j CNI-HOSTPORT-DNAT",
            "-A CNI-HOSTPORT-DNAT -j CNI-FORWARD",
            "COMMIT",
        ]
    )
    script = network.removal_script(save, keep=["filter/CNI-HOSTPORT-DNAT"]).splitlines()
    # the chain of before `up` stays; its jump to our chain goes, our chain goes
    assert script == [
        "*filter",
        "-D FORWARD -j CNI-FORWARD",
        "-D CNI-HOSTPORT-DNAT -j CNI-FORWARD",
        "-F CNI-FORWARD",
        "-X CNI-FORWARD",
        "COMMIT",
    ]


@NEEDS_IPTABLES
def test_the_previous_versions_state_is_adopted_into_a_journal(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path, cache=tmp_path / "c")
    legacy = {
        "sysctls_previous": {"net/ipv4/ip_forward": "0"},
        "host_dirs_preexisting": {"/run/containerd": False},
    }
    (tmp_path / "created.json").write_text(json.dumps(legacy))
    assert preflight.state_dir_problem(layout) is None
    assert hoststate.adopt_legacy(layout)
    journal = Journal(layout.journal)
    ids = [e["id"] for e in journal.entries()]
    assert ids[:2] == ["state-dir", "chains"] and "guard" in ids
    entry = journal.get("sysctl:net/ipv4/ip_forward")
    assert entry is not None and entry["previous"] == "0" and entry["set_to"] == "1"
    run_dir = journal.get("host-dir:/run/containerd")
    assert run_dir is not None and run_dir["existed"] is False
    assert not hoststate.adopt_legacy(layout)  # once


def test_state_dir_is_created_with_its_journal_in_one_rename(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "a" / "state", cache=tmp_path / "cache")
    hoststate.create_state_dir(layout)
    assert stat.S_IMODE(layout.state.stat().st_mode) == 0o700
    entry = Journal(layout.journal).get("state-dir")
    assert entry is not None and entry["existed"] is False and entry["parents"] == [str(tmp_path / "a")]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["state"]
    # what a kill before the rename leaves is found and removed
    pending = tmp_path / "a" / ".state.new-4242"
    pending.mkdir()
    Journal(pending / "host-changes.json").intend("state-dir", "state-dir", existed=False)
    hoststate.remove_pending_state_dirs(layout)
    assert not pending.exists()


def test_an_adopted_empty_state_dir_is_emptied_not_removed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o750)
    layout = Layout(state=state, cache=tmp_path / "cache")
    hoststate.create_state_dir(layout)
    (state / "logs").mkdir()
    (state / "logs" / "etcd.log").write_text("x")
    entry = Journal(layout.journal).get("state-dir")
    assert entry is not None
    assert hoststate.revert(entry, layout, lambda: None) == []
    assert state.is_dir() and list(state.iterdir()) == []
    assert stat.S_IMODE(state.stat().st_mode) == 0o750


def test_host_dir_revert_removes_only_our_links_and_dead_sockets(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    root = tmp_path / "run-containerd"
    (root / "s").mkdir(parents=True)
    (root / "theirs.pid").write_text("1")
    before = {str(p) for p in (root / "s", root / "theirs.pid")}
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(root / "s" / "dead"))
    dead.close()
    alive = socket.socket(socket.AF_UNIX)
    alive.bind(str(root / "s" / "alive"))
    alive.listen()
    (root / "ours.log").symlink_to(layout.state / "pod-logs" / "x.log")
    (root / "theirs.log").symlink_to("/var/log/other.log")
    (root / "newdir").mkdir()
    try:
        assert hoststate._revert_host_dir(root, True, before, layout) == []
        left = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    finally:
        alive.close()
    assert left == ["s", "s/alive", "theirs.log", "theirs.pid"]


def test_cni_cache_revert_removes_our_network_and_our_sandboxes_loopback_only(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    results = tmp_path / "results"
    results.mkdir()
    for name in ("taskflow-abc-eth0", "cni-loopback-abc-lo", "cni-loopback-def-lo", "podman-def-eth0"):
        (results / name).write_text("{}")
    hoststate._remove_cni_cache(results, set(), layout)
    assert sorted(p.name for p in results.iterdir()) == ["cni-loopback-def-lo", "podman-def-eth0"]


def test_sysctl_changed_by_someone_else_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network, "read_sysctl", lambda key: "5")
    problem = network.restore_sysctl("kernel/panic", "0", "10")
    assert problem is not None and "someone else" in problem


def _sleeper(tmp_path: Path) -> component.Component:
    return component.Component(
        name="sleeper", argv=["/bin/sleep", "60"], ready=lambda: None, ready_timeout=5, stop_timeout=5
    )


def test_a_pid_record_of_another_boot_or_executable_is_not_alive(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path, cache=tmp_path)
    rec = component.start(layout, _sleeper(tmp_path))
    try:
        assert rec.boot == component.boot_id() and rec.exe.endswith("sleep")
        assert component.read_pid(layout, "sleeper") == rec
        assert rec.alive()
        assert not component.PidRecord(rec.pid, rec.start_ticks, "another-boot", rec.exe).alive()
        assert not component.PidRecord(rec.pid, rec.start_ticks, rec.boot, "/usr/bin/other").alive()
    finally:
        assert component.stop(layout, "sleeper", timeout=5)
    assert not rec.alive()


def test_an_orphan_started_before_its_pid_file_is_found_by_its_command_line(tmp_path: Path) -> None:
    argv = ["/bin/sleep", f"{61 + os.getpid() % 1000}"]  # unique enough on this host
    orphan = subprocess.Popen(argv)
    try:
        deadline = time.monotonic() + 5
        found: list[component.PidRecord] = []
        while not found and time.monotonic() < deadline:
            found = component.orphans(argv, set())
        assert [r.pid for r in found] == [orphan.pid]
        assert component.terminate(found[0], "orphan", timeout=5)
        orphan.wait(timeout=5)
    finally:
        orphan.kill()


def _cert(ca: pki.Pki, name: str = "admin") -> x509.Certificate:
    return x509.load_pem_x509_certificate(ca.crt(name).read_bytes())


def test_certificates_near_expiry_or_of_an_old_ca_are_reissued(tmp_path: Path) -> None:
    root = tmp_path / "pki"
    first = pki.ensure_all(root, "node", "10.244.0.1", "10.96.0.1", "cluster.local")
    admin = _cert(first)
    assert stat.S_IMODE(first.key("admin").stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    pki.ensure_all(root, "node", "10.244.0.1", "10.96.0.1", "cluster.local")
    assert _cert(first) == admin  # still valid: kept
    assert pki.needs_renewal(admin, admin.not_valid_after_utc - dt.timedelta(days=29))
    assert not pki.needs_renewal(admin, admin.not_valid_after_utc - dt.timedelta(days=31))
    first.crt("ca").unlink()  # a new CA: every leaf it signed must follow
    pki.ensure_all(root, "node", "10.244.0.1", "10.96.0.1", "cluster.local")
    assert _cert(first) != admin


def test_encryption_config_is_private_and_made_once(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path, cache=tmp_path)
    path = configs.encryption_config(layout)
    text = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "secretbox" in text
    assert configs.encryption_config(layout).read_text() == text


@ROOT_ONLY
@NEEDS_IPTABLES
def test_nft_tables_and_base_chains_iptables_made_are_removed_others_stay() -> None:
    if shutil.which("nft") is None:
        pytest.skip("needs the nft tool")
    code = (
        "import subprocess\n"
        "from harness.cluster import network\n"
        "run = lambda *a: subprocess.run(list(a), check=True)\n"
        "run('iptables', '-N', 'THEIRS')\n"  # someone's table filter, chain THEIRS
        "before = network.nft_chains()\n"
        "run('iptables', '-A', 'INPUT', '-j', 'RETURN')\n"  # our run adds base chains and a table
        "run('iptables', '-D', 'INPUT', '-j', 'RETURN')\n"
        "run('iptables', '-t', 'nat', '-S')\n"
        "run('iptables', '-t', 'nat', '-N', 'KUBE-X')\n"
        "run('iptables', '-t', 'nat', '-X', 'KUBE-X')\n"
        "network.remove_new_empty_nft_chains(before)\n"
        "assert network.nft_chains() == before, (network.nft_chains(), before)\n"
    )
    subprocess.run(["unshare", "-n", sys.executable, "-c", code], check=True, timeout=60)


GUARD_PACKETS = """
import subprocess, sys
from harness.cluster import network
peer = sys.argv[1]
def sh(*a, ns=False):
    argv = (['nsenter', '-t', peer, '-n'] if ns else []) + list(a)
    return subprocess.run(argv, capture_output=True, text=True).returncode
CONNECT = 'import socket, sys; socket.create_connection((sys.argv[1], 7777), timeout=1).close()'
def ping(addr, ns=False):  # a TCP connection to the listener on the other side
    return sh(sys.executable, '-c', CONNECT, addr, ns=ns) == 0
for cmd in (['ip', 'link', 'set', 'lo', 'up'], ['ip', 'link', 'add', 'tfbr0', 'type', 'bridge'],
            ['ip', 'addr', 'add', '10.244.0.1/24', 'dev', 'tfbr0'], ['ip', 'link', 'set', 'tfbr0', 'up'],
            ['ip', 'link', 'add', 'nic1', 'type', 'veth', 'peer', 'name', 'nic2'],
            ['ip', 'link', 'set', 'nic2', 'netns', peer],
            ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'nic1'],
            ['ip', 'link', 'set', 'nic1', 'up'], ['ip', 'route', 'add', '10.96.0.0/16', 'via', '192.0.2.1']):
    assert sh(*cmd) == 0, cmd
for cmd in (['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'nic2'], ['ip', 'link', 'set', 'nic2', 'up'],
            ['ip', 'addr', 'add', '10.96.0.9/32', 'dev', 'nic2'],
            ['ip', 'route', 'add', '10.244.0.0/24', 'via', '192.0.2.2']):
    assert sh(*cmd, ns=True) == 0, cmd
import socket, threading
listener = socket.create_server(('0.0.0.0', 7777))
threading.Thread(target=lambda: [listener.accept()[0].close() for _ in iter(int, 1)], daemon=True).start()
LISTEN = ('import socket; s = socket.create_server(("0.0.0.0", 7777)); '
          '[s.accept()[0].close() for _ in iter(int, 1)]')
server = subprocess.Popen(['nsenter', '-t', peer, '-n', sys.executable, '-c', LISTEN])
import time; time.sleep(0.5)
# a second NIC: a service-CIDR route through it (a VPN, say), and a neighbour reaching the node IP
assert ping('10.96.0.9') and ping('10.244.0.1', ns=True), 'the test network itself does not work'
network.ensure_guard()
assert not ping('10.96.0.9'), 'outbound service-CIDR traffic left through nic1'
assert not ping('10.244.0.1', ns=True), 'inbound pod-CIDR traffic from nic1 was accepted'
assert ping('10.244.0.1') and ping('192.0.2.1'), 'loopback/bridge or unrelated traffic was dropped'
network.remove_guard()
assert ping('10.96.0.9') and ping('10.244.0.1', ns=True)
server.kill()
"""


@ROOT_ONLY
@NEEDS_IPTABLES
def test_guard_drops_cluster_cidr_traffic_on_any_other_interface_both_ways() -> None:
    if shutil.which("nsenter") is None:
        pytest.skip("needs nsenter")
    neighbour = subprocess.Popen(["unshare", "-n", "sleep", "60"])
    try:
        time.sleep(0.2)
        subprocess.run(
            ["unshare", "-n", sys.executable, "-c", GUARD_PACKETS, str(neighbour.pid)], check=True, timeout=60
        )
    finally:
        neighbour.kill()
        neighbour.wait()
