"""Fast checks of the cluster code that need no cluster and no root."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from cryptography import x509

from harness.cluster import component, network, pki, users
from harness.cluster.__main__ import main
from harness.cluster.context import Context
from harness.cluster.errors import ClusterError
from harness.cluster.images import scratch_image
from harness.cluster.paths import Layout


def test_scratch_image_is_a_docker_archive(tmp_path: Path) -> None:
    binary = tmp_path / "tool"
    binary.write_bytes(b"\x7fELF fake")
    out = scratch_image("localhost/x:1", {"bin/tool": binary}, ["/bin/tool"], tmp_path / "x.tar")
    with tarfile.open(out) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
        layer = tar.extractfile(manifest[0]["Layers"][0])
        assert layer is not None
        with tarfile.open(fileobj=layer) as inner:
            assert inner.getmember("bin/tool").mode == 0o755
    assert manifest[0]["RepoTags"] == ["localhost/x:1"]
    assert config["config"]["Entrypoint"] == ["/bin/tool"]
    again = scratch_image("localhost/x:1", {"bin/tool": binary}, ["/bin/tool"], tmp_path / "y.tar")
    assert again.read_bytes() == out.read_bytes()  # reproducible


def test_certificates_chain_to_the_ca_with_the_right_names(tmp_path: Path) -> None:
    pki.ensure_all(tmp_path, "node-a", "10.244.0.1", "10.96.0.1", "cluster.local")
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((tmp_path / "kube-apiserver.crt").read_bytes())
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc.cluster.local" in sans.get_values_for_type(x509.DNSName)
    kubelet = x509.load_pem_x509_certificate((tmp_path / "kubelet-client.crt").read_bytes())
    assert kubelet.subject.rfc4514_string() == "CN=system:node:node-a,O=system:nodes"
    before = (tmp_path / "ca.crt").read_bytes()
    pki.ensure_all(tmp_path, "node-a", "10.244.0.1", "10.96.0.1", "cluster.local")
    assert (tmp_path / "ca.crt").read_bytes() == before  # idempotent


def test_supervisor_starts_checks_and_stops_by_recorded_pid(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    comp = component.Component(
        name="sleeper", argv=[sys.executable, "-c", "import time; time.sleep(60)"], ready=lambda: None
    )
    rec = component.start(layout, comp)
    component.wait_ready(layout, comp)
    assert component.running(layout, "sleeper") == rec
    assert component.start(layout, comp) == rec  # idempotent
    assert component.stop(layout, "sleeper", timeout=5)
    assert component.running(layout, "sleeper") is None


def test_a_component_exiting_during_start_names_it_and_shows_its_log(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    comp = component.Component(
        name="crasher",
        argv=[sys.executable, "-c", "import sys; print('bind: address already in use'); sys.exit(3)"],
        ready=lambda: "never",
        fix_hint="free the port",
    )
    component.start(layout, comp)
    with pytest.raises(ClusterError) as caught:
        component.wait_ready(layout, comp)
    text = caught.value.render()
    assert "crasher exited during start (exit code 3)" in text
    assert "address already in use" in text
    assert "fix: free the port" in text


def test_not_root_is_one_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    for command in ("up", "down", "status"):
        assert main([command]) == 2
        err = capsys.readouterr().err
        assert "must run as root" in err and "fix:" in err and "Traceback" not in err


def test_load_image_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="does not exist"):
        Context(Layout(state=tmp_path, cache=tmp_path)).load_image(tmp_path / "nope.tar")


def test_removal_script_drops_jumps_and_owned_chains_only() -> None:
    save = "\n".join(
        [
            "*filter",
            ":INPUT ACCEPT [0:0]",
            ":FORWARD ACCEPT [0:0]",
            ":KUBE-FORWARD - [0:0]",
            ":HOST-OWN - [0:0]",
            '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
            "-A FORWARD -j HOST-OWN",
            "-A KUBE-FORWARD -j ACCEPT",
            "COMMIT",
            "*mangle",
            ":PREROUTING ACCEPT [0:0]",
            "COMMIT",
        ]
    )
    script = network.removal_script(save).splitlines()
    assert script == [
        "*filter",
        '-D FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        "-F KUBE-FORWARD",
        "-X KUBE-FORWARD",
        "COMMIT",
    ]
    assert network.removal_script("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n") == ""


def test_down_sees_the_lease_of_a_live_run_only(tmp_path: Path) -> None:
    layout = Layout(state=tmp_path / "state", cache=tmp_path / "cache")
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from harness.cluster.paths import Layout\n"
            "from harness.cluster.users import using\n"
            "with using(Layout(Path(sys.argv[1]), Path(sys.argv[2])), 'conformance'):\n"
            "    print('held', flush=True); time.sleep(60)\n",
            str(layout.state), str(layout.cache),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert users.others(layout) == [f"pid {holder.pid} (conformance)"]
    finally:
        holder.kill()
        holder.wait()
    assert users.others(layout) == []  # a dead holder's lease does not count
    with users.using(layout, "me"):
        assert users.others(layout) == []  # our own lease never blocks our own `down`
