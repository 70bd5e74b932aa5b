"""Why SC-003's browser runs in a network namespace of its own, shown with real Chromium.

Interfaces that appear and vanish in Chromium's namespace (as a veth per pod start does on the
embedded cluster's host) abort its navigations with net::ERR_NETWORK_CHANGED; the same churn in
another namespace leaves it alone. Both halves run in private named namespaces (root only), so
the host's own interfaces are never touched.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from harness.browser import CHROMIUM, launch_chromium
from harness.browser_isolation import chromium_in_own_network
from harness.deployment import IngressEndpoint
from harness.secrets import self_signed_certificate

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"),
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing"),
]
NAVIGATIONS = 6
T = TypeVar("T")
HANDSHAKE_DELAY_SECONDS = 0.8


class Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>ok</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("connection", "close")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class SlowTlsServer(ThreadingHTTPServer):
    """HTTPS whose handshake takes a while, like an ingress on a busy node: new connections are
    in progress most of the time, which is when Chromium drops them on a network change."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), Page)
        self.tls = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        time.sleep(HANDSHAKE_DELAY_SECONDS)
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.RequestHandlerClass(wrapped, client_address, self)


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[IngressEndpoint]:
    certificate, key = self_signed_certificate("isolation.test")
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = SlowTlsServer(context)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield IngressEndpoint("127.0.0.1", server.server_address[1])
    server.shutdown()


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str]]:
    names = (f"tf-churn-{os.getpid()}", f"tf-browser-{os.getpid()}")
    for name in names:
        subprocess.run(["ip", "netns", "add", name], check=True)
    yield names
    for name in names:
        subprocess.run(["ip", "netns", "del", name], check=False)


def churn(namespace: str, stop: threading.Event) -> None:
    """Veth pairs with addresses appearing and vanishing every 0.5 s, like pods starting/stopping."""
    turn = 0
    while not stop.is_set():
        turn += 1
        name, peer = f"vc{turn % 6}", f"vp{turn % 6}"
        for command in (
            ["link", "del", name],
            ["link", "add", name, "type", "veth", "peer", "name", peer],
            ["link", "set", name, "up"],
            ["link", "set", peer, "up"],
            ["addr", "add", f"10.99.{turn % 6}.1/24", "dev", name],
        ):
            subprocess.run(
                ["ip", "netns", "exec", namespace, "ip", *command], capture_output=True, check=False
            )
        stop.wait(0.5)


def in_own_thread(work: Callable[[], T]) -> T:
    """Playwright's sync API refuses a thread whose event loop another sync_playwright (the e2e
    suite's session fixture) still holds; a fresh thread has none."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def navigation_errors(browser_namespace: str, churn_namespace: str, endpoint: IngressEndpoint) -> list[str]:
    return in_own_thread(lambda: _navigation_errors(browser_namespace, churn_namespace, endpoint))


def _navigation_errors(browser_namespace: str, churn_namespace: str, endpoint: IngressEndpoint) -> list[str]:
    from playwright.sync_api import Error, sync_playwright  # noqa: PLC0415

    stop = threading.Event()
    churner = threading.Thread(target=churn, args=(churn_namespace, stop), daemon=True)
    errors: list[str] = []
    enter = ["ip", "netns", "exec", browser_namespace]
    try:
        with chromium_in_own_network(CHROMIUM, endpoint, enter=enter) as executable, sync_playwright() as pw:
            browser = launch_chromium(pw, host_rules="MAP isolation.test 127.0.0.1", executable=executable)
            page = browser.new_page(ignore_https_errors=True)
            page.goto("https://isolation.test/", timeout=15_000)  # before any churn: the path works
            churner.start()
            time.sleep(1)
            for _ in range(NAVIGATIONS):
                try:
                    page.goto("https://isolation.test/", timeout=15_000)
                except Error as error:
                    errors.append(str(error).splitlines()[0])
            browser.close()
    finally:
        stop.set()
        if churner.is_alive():
            churner.join(timeout=5)
    return errors


def test_churn_in_the_browsers_namespace_aborts_navigations(
    https_server: IngressEndpoint, namespaces: tuple[str, str]
) -> None:
    churned, _ = namespaces
    errors = navigation_errors(churned, churned, https_server)
    assert any("ERR_NETWORK_CHANGED" in error for error in errors), errors


def test_churn_elsewhere_leaves_an_isolated_browser_alone(
    https_server: IngressEndpoint, namespaces: tuple[str, str]
) -> None:
    churned, isolated = namespaces
    assert navigation_errors(isolated, churned, https_server) == []


def test_relay_reaches_the_endpoint_from_a_new_namespace(https_server: IngressEndpoint) -> None:
    assert in_own_thread(lambda: _status_through_relay(https_server)) == 200


def _status_through_relay(endpoint: IngressEndpoint) -> int:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with chromium_in_own_network(CHROMIUM, endpoint) as executable, sync_playwright() as pw:
        browser = launch_chromium(pw, host_rules="MAP isolation.test 127.0.0.1", executable=executable)
        page = browser.new_page(ignore_https_errors=True)
        status = page.goto("https://isolation.test/", timeout=15_000).status
        browser.close()
        return status
