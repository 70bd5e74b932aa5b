"""The contract values the rules check, as pinned in DESIGN.md and docs/contracts.md."""

from __future__ import annotations

from dataclasses import dataclass

APP_UID = 10001
APP_GID = 10001
INGRESS_HOST = "taskflow.local"
TLS_SECRET = "taskflow-tls"
CONFIG_MAP = "taskflow-config"
SECRET = "taskflow-secrets"
NAME_LABEL = "app.kubernetes.io/name"
POSTGRES_DATA_PATH = "/var/lib/postgresql/data"
POSTGRES_CLAIM = "data"


@dataclass(frozen=True)
class App:
    name: str
    kind: str
    port: int
    stateless: bool
    liveness_path: str | None
    readiness_path: str | None
    slow_start: bool
    config_env: tuple[str, ...]
    secret_env: tuple[str, ...]


APPS = (
    App(
        name="frontend",
        kind="Deployment",
        port=3000,
        stateless=True,
        liveness_path="/api/health",
        readiness_path="/api/health",
        slow_start=True,
        config_env=("BACKEND_URL", "LOG_LEVEL"),
        secret_env=(),
    ),
    App(
        name="backend",
        kind="Deployment",
        port=8000,
        stateless=True,
        liveness_path="/healthz",
        # the database only, never MCP (DESIGN.md)
        readiness_path="/readyz",
        slow_start=True,
        config_env=(
            "MCP_SERVER_URL",
            "MCP_CONNECT_TIMEOUT_SECONDS",
            "MCP_TIMEOUT_SECONDS",
            "MCP_RETRY_AFTER_SECONDS",
            "ACCESS_TOKEN_TTL_SECONDS",
            "LOG_LEVEL",
        ),
        secret_env=("DATABASE_URL", "JWT_SECRET", "MCP_TOKEN_SECRET"),
    ),
    App(
        name="mcp-server",
        kind="Deployment",
        port=8080,
        stateless=True,
        liveness_path="/health",
        # the database too: a database outage takes it out of the Service, never restarts it
        readiness_path="/ready",
        slow_start=False,
        config_env=("LOG_LEVEL",),
        secret_env=("DATABASE_URL", "MCP_TOKEN_SECRET"),
    ),
    App(
        name="postgres",
        kind="StatefulSet",
        port=5432,
        stateless=False,
        # exec probes (pg_isready), not HTTP
        liveness_path=None,
        readiness_path=None,
        slow_start=True,
        config_env=("POSTGRES_USER", "POSTGRES_DB"),
        secret_env=("POSTGRES_PASSWORD",),
    ),
)
APPS_BY_NAME = {app.name: app for app in APPS}
POSTGRES_PROBE_COMMAND = "pg_isready"

CONFIG_DEFAULTS = {
    "MCP_SERVER_URL": "http://mcp-server:8080/mcp",
    "BACKEND_URL": "http://backend:8000",
    "MCP_CONNECT_TIMEOUT_SECONDS": "1",
    "MCP_TIMEOUT_SECONDS": "5",
    "MCP_RETRY_AFTER_SECONDS": "5",
    "ACCESS_TOKEN_TTL_SECONDS": "3600",
    "LOG_LEVEL": "INFO",
    "POSTGRES_USER": "taskflow",
    "POSTGRES_DB": "taskflow",
}
# Values the wiring depends on; the rest are tunables a run may change.
CONFIG_FIXED_KEYS = ("MCP_SERVER_URL", "BACKEND_URL")
SECRET_KEYS = ("DATABASE_URL", "JWT_SECRET", "POSTGRES_PASSWORD", "MCP_TOKEN_SECRET")
DATABASE_URL_HOST = "postgres:5432"

# Ingress routes: path -> (service, port).
INGRESS_ROUTES = {"/api": ("backend", 8000), "/": ("frontend", 3000)}

# The only connections NetworkPolicies may open (besides DNS): (from, to, port).
INGRESS_CONTROLLER = "ingress-controller"
NETWORK_PATHS = frozenset(
    {
        (INGRESS_CONTROLLER, "frontend", 3000),
        (INGRESS_CONTROLLER, "backend", 8000),
        ("frontend", "backend", 8000),
        ("backend", "mcp-server", 8080),
        ("backend", "postgres", 5432),
        ("mcp-server", "postgres", 5432),
    }
)
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
DNS_PORT = 53
