"""FR-003: the frontend (and /api) are reachable from outside through the TLS ingress."""

from __future__ import annotations

import ssl

import pytest

from harness.deploy import Deployment
from harness.ingress_client import INGRESS_HOST, fetch, trusting
from harness.recorder import EvidenceRecorder

# The hop the frontend's /api proxy adds to `Via` (apps/frontend/lib/proxy.ts, RFC 9110 7.6.3).
FRONTEND_PROXY_HOP = "taskflow-frontend"


@pytest.mark.criterion("FR-003")
def test_frontend_served_over_https_with_the_run_certificate(
    deployment: Deployment, tls_certificate_pem: str, evidence: EvidenceRecorder
) -> None:
    where = f"{deployment.ingress.address}:{deployment.ingress.port}"
    try:
        response = fetch(deployment.ingress, "/", trusting(tls_certificate_pem))
    except (OSError, ssl.SSLError) as error:
        response, where = None, f"{where}: {error}"
    evidence.check(
        "FR-003",
        f"https://{INGRESS_HOST}/ with the taskflow-tls certificate",
        ok=response is not None,
        metric="connection",
        value="TLS verified" if response is not None else "failed",
        budget="TLS verified",
        detail=where,
    )
    if response is None:
        return
    served_cert_pem = ssl.DER_cert_to_PEM_cert(response.peer_certificate_der)
    evidence.check(
        "FR-003",
        "ingress presents the certificate of Secret taskflow-tls",
        ok=served_cert_pem.split() == tls_certificate_pem.split(),
        metric="certificate",
        value="same" if served_cert_pem.split() == tls_certificate_pem.split() else "different",
        budget="same",
    )
    evidence.check(
        "FR-003",
        f"GET https://{INGRESS_HOST}/ serves the frontend",
        ok=response.status == 200 and "<html" in response.body.lower(),
        metric="HTTP status",
        value=response.status,
        budget="200 with HTML",
        samples=[],
        detail=f"{response.seconds * 1000:.0f} ms",
    )


@pytest.mark.criterion("FR-003")
def test_api_path_routed_to_backend(
    deployment: Deployment, tls_certificate_pem: str, evidence: EvidenceRecorder
) -> None:
    response = fetch(
        deployment.ingress, "/api/auth/login", trusting(tls_certificate_pem), method="POST", body="{}"
    )
    evidence.check(
        "FR-003",
        f"POST https://{INGRESS_HOST}/api/auth/login reaches the backend",
        ok=response.status == 422 and "application/json" in response.headers.get("content-type", ""),
        metric="HTTP status",
        value=response.status,
        budget="422 JSON validation error from FastAPI",
        detail=response.body[:200],
    )
    # The frontend proxies /api to the backend itself (for a frontend run without an ingress), so
    # a 422 from FastAPI does not show that the ingress routed /api: the proxy's Via hop does.
    via = response.headers.get("via", "")
    evidence.check(
        "FR-003",
        "/api through the ingress answered by the backend, not the frontend's proxy",
        ok=FRONTEND_PROXY_HOP not in via,
        metric="Via header",
        value=via or "none",
        budget=f"no {FRONTEND_PROXY_HOP!r} hop",
        detail=f"POST https://{INGRESS_HOST}/api/auth/login",
    )
