"""Chromium in a network namespace of its own, reaching the ingress through a relay.

Why: Chromium watches every network interface of its namespace over netlink and aborts in-flight
requests with net::ERR_NETWORK_CHANGED when one appears or goes away. On the embedded cluster each
pod start or stop adds or removes a veth on the host, so a browser on the host fails at random
while the run (or a neighbour) starts pods. In a namespace with only `lo` there is nothing to
change; the ingress is reached through 127.0.0.1:443 there -> a Unix socket -> the ingress here.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.deployment import IngressEndpoint
from harness.errors import UserError
from harness.netns_entry import pump

NETNS_ENTRY = Path(__file__).with_name("netns_entry.py")
LISTEN_PORT = 443


class UnixToTcpRelay:
    """Accepts on a Unix socket and connects each client to a TCP endpoint (thread per direction)."""

    def __init__(self, path: Path, endpoint: IngressEndpoint) -> None:
        self.path = path
        self.endpoint = endpoint
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._thread = threading.Thread(target=self._serve, name="browser relay", daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.endpoint.address, self.endpoint.port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.close()


def namespace_command() -> list[str]:
    """unshare for a new network namespace: as root directly, else inside a user namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise UserError(
            "unshare (util-linux) is missing", where="SC-003 browser", fix="apt install util-linux"
        )
    command = [unshare, "--net"] if os.geteuid() == 0 else [unshare, "--net", "--map-root-user"]
    command.append("--")
    probe = subprocess.run([*command, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        raise UserError(
            f"cannot create a network namespace for the browser: {probe.stderr.strip()}",
            where="SC-003 browser",
            fix="run as root, or allow unprivileged user namespaces (kernel.unprivileged_userns_clone=1)",
        )
    return command


@contextmanager
def chromium_in_own_network(
    browser: Path, endpoint: IngressEndpoint, *, enter: list[str] | None = None
) -> Iterator[Path]:
    """An executable to give Playwright as Chromium: it starts `browser` in a new network namespace
    where 127.0.0.1:443 leads to `endpoint`. Map the ingress host to 127.0.0.1 (host-resolver-rules).

    enter: the command that puts the browser in its namespace (default: a new one by unshare);
    tests pass `ip netns exec NAME` to choose the namespace themselves.
    """
    command = enter if enter is not None else namespace_command()
    with tempfile.TemporaryDirectory(prefix="taskflow-browser-") as folder:
        socket_path = Path(folder) / "ingress.sock"
        relay = UnixToTcpRelay(socket_path, endpoint)
        relay.start()
        wrapper = Path(folder) / "chromium"
        inner = [*command, sys.executable, str(NETNS_ENTRY), str(socket_path), str(LISTEN_PORT)]
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.join([*inner, str(browser)])} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        try:
            yield wrapper
        finally:
            relay.stop()
