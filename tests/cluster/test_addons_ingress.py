"""Ingress with TLS (Traefik add-on): an Ingress on the default IngressClass serves HTTPS on the
node's loopback with the certificate from its Secret, for its host only."""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.cluster.addons import settings
from harness.secrets import self_signed_certificate

from .kube import Kube, echo_manifest

INGRESS = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: echo}
spec:
  tls: [{hosts: [HOST], secretName: echo-tls}]
  rules:
  - host: HOST
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}
"""


def _self_signed(host: str, directory: Path) -> tuple[Path, Path]:
    cert_pem, key_pem = self_signed_certificate(host)
    crt, key = directory / "tls.crt", directory / "tls.key"
    crt.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return crt, key


def _https_get(host: str, context: ssl.SSLContext) -> tuple[int, bytes, bytes]:
    """GET https://<host>/ through 127.0.0.1 (as `curl --resolve host:443:127.0.0.1`):
    (status, body, the server's certificate in DER)."""
    port = settings.ingress_https_port()
    with (
        socket.create_connection((settings.INGRESS_LISTEN_IP, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
        peer = tls.getpeercert(binary_form=True) or b""
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body, peer


def test_ingress_serves_https_with_its_secret(
    cluster: Kube, namespace: str, test_image: str, tmp_path: Path
) -> None:
    host = f"{namespace}.taskflow.local"
    crt, key = _self_signed(host, tmp_path)
    cluster.run("-n", namespace, "create", "secret", "tls", "echo-tls", f"--cert={crt}", f"--key={key}")
    cluster.apply(echo_manifest(test_image, replicas=1), namespace)
    (pod,) = cluster.wait_ready_pods(namespace, "app=echo", 1)
    cluster.apply(INGRESS.replace("HOST", host), namespace)

    ingress = cluster.json("-n", namespace, "get", "ingress", "echo")
    assert ingress["spec"]["ingressClassName"] == settings.INGRESS_CLASS  # set as the default class

    trusting_ours = ssl.create_default_context(cafile=str(crt))
    result: dict[str, object] = {}

    def served() -> str | None:
        try:
            status, body, _ = _https_get(host, trusting_ours)
        except (OSError, ssl.SSLError) as exc:  # not routed yet: Traefik's default cert fails
            return f"{exc.__class__.__name__}: {exc}"
        if status != 200:
            return f"HTTP {status}"
        result["body"] = body
        return None

    cluster.wait_for(f"https://{host}/ through the ingress", served, timeout=60)
    body = result["body"]
    assert isinstance(body, bytes)
    assert json.loads(body)["host"] == pod["metadata"]["name"]

    # the certificate served for this host is exactly the Secret's
    _, _, der = _https_get(host, trusting_ours)
    assert der == x509.load_pem_x509_certificate(crt.read_bytes()).public_bytes(serialization.Encoding.DER)

    # another name does not get it (Traefik's default certificate instead)
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    _, _, other = _https_get(f"other-{host}", unverified)
    assert other != der

    def published() -> str | None:
        lb = cluster.json("-n", namespace, "get", "ingress", "echo").get("status", {}).get("loadBalancer", {})
        ips = [i.get("ip") for i in lb.get("ingress", [])]
        return None if settings.INGRESS_LISTEN_IP in ips else f"status.loadBalancer={lb}"

    cluster.wait_for("the ingress status to publish 127.0.0.1", published, timeout=30)
