"""Every overlay migrates the schema once per rollout: the backend pod's init container runs the
migration, and neither app migrates at its own start (RUN_MIGRATIONS is "false" from the ConfigMap).
The migration's behaviour itself (lock, rollback onto a newer schema) is tested in
tests/apps/test_migrations.py."""

from __future__ import annotations

from typing import Any

from harness.policy.objects import Manifest, name_of

MIGRATE_MODULE = "taskflow_backend.db.migrate"


def _find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    return next(obj for obj in objects if obj["kind"] == kind and name_of(obj) == name)


def _env(container: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in container.get("env", []) if entry["name"] == name)


def test_the_backend_pod_migrates_in_an_init_container(objects: list[Manifest]) -> None:
    pod = _find(objects, "Deployment", "backend")["spec"]["template"]["spec"]
    migrating = [
        init for init in pod.get("initContainers", []) if MIGRATE_MODULE in " ".join(init.get("command", []))
    ]
    assert len(migrating) == 1, "the backend pod needs exactly one init container running the migration"
    assert _env(migrating[0], "DATABASE_URL")["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"


def test_neither_app_migrates_at_its_own_start(objects: list[Manifest]) -> None:
    config = _find(objects, "ConfigMap", "taskflow-config")["data"]
    assert config["RUN_MIGRATIONS"] == "false"
    for app in ("backend", "mcp-server"):
        pod = _find(objects, "Deployment", app)["spec"]["template"]["spec"]
        container = next(c for c in pod["containers"] if c["name"] == app)
        source = _env(container, "RUN_MIGRATIONS")["valueFrom"]["configMapKeyRef"]
        assert (source["name"], source["key"]) == ("taskflow-config", "RUN_MIGRATIONS"), app
