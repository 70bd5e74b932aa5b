"""A Docker engine started and stopped by the project itself (never the host's service), for kind
and testcontainers on hosts that have no running Docker: Debian's docker.io, its own data root,
exec root, socket and pidfile, and every host change it makes recorded and reverted on stop."""

from __future__ import annotations

from .engine import DockerEngine, EngineLayout, engine_running

__all__ = ["DockerEngine", "EngineLayout", "engine_running"]
