"""Configuration: the ConfigMap and Secret keys, and every app getting its settings from them."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from harness.policy.contracts import (
    APPS,
    CONFIG_DEFAULTS,
    CONFIG_FIXED_KEYS,
    CONFIG_MAP,
    DATABASE_URL_HOST,
    SECRET,
    SECRET_KEYS,
)
from harness.policy.model import Finding, rule
from harness.policy.objects import Container, Manifest, Manifests, dig, mapping, namespace_of, ref, sequence


def secret_values(secret: Manifest) -> dict[str, str]:
    values = {str(k): str(v) for k, v in mapping(secret.get("stringData")).items()}
    for key, encoded in mapping(secret.get("data")).items():
        try:
            # kustomize wraps long values; the API server ignores the line breaks too
            values[str(key)] = base64.b64decode("".join(str(encoded).split()), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            values[str(key)] = ""
    return values


@rule(
    "CFG-CONFIGMAP-KEYS",
    "FR-004",
    f"ConfigMap {CONFIG_MAP} holds every key of docs/contracts.md; service URLs use service names",
    f"add the key to ConfigMap {CONFIG_MAP} (defaults in docs/contracts.md)",
)
def configmap_keys(manifests: Manifests) -> Iterator[Finding]:
    config_map = manifests.get("ConfigMap", CONFIG_MAP)
    if config_map is None:
        yield Finding(f"ConfigMap/{CONFIG_MAP}", "is missing")
        return
    data = mapping(config_map.get("data"))
    missing = [key for key in CONFIG_DEFAULTS if not data.get(key)]
    if missing:
        yield Finding(ref(config_map), f"lacks {', '.join(missing)}")
    for key in CONFIG_FIXED_KEYS:
        if key in data and data[key] != CONFIG_DEFAULTS[key]:
            yield Finding(ref(config_map), f"{key} is {data[key]!r}, not {CONFIG_DEFAULTS[key]!r}")


@rule(
    "CFG-SECRET-KEYS",
    "FR-010",
    f"Secret {SECRET} (Opaque) holds non-empty {', '.join(SECRET_KEYS)}",
    "generate the secret inputs with `python -m harness.secrets` (kustomize secretGenerator reads them)",
)
def secret_keys(manifests: Manifests) -> Iterator[Finding]:
    secret = manifests.get("Secret", SECRET)
    if secret is None:
        yield Finding(f"Secret/{SECRET}", "is missing")
        return
    values = secret_values(secret)
    missing = [key for key in SECRET_KEYS if not values.get(key)]
    if missing:
        yield Finding(ref(secret), f"lacks or has empty {', '.join(missing)}")
    if secret.get("type", "Opaque") != "Opaque":
        yield Finding(ref(secret), f"has type {secret.get('type')}, not Opaque")
    url = values.get("DATABASE_URL", "")
    if url and f"@{DATABASE_URL_HOST}/" not in url:
        yield Finding(ref(secret), f"DATABASE_URL does not reach the database at {DATABASE_URL_HOST}")


def _env_source(container: Container, variable: str) -> tuple[str, str, str] | None:
    """(kind, object, key) the variable comes from, or None when it is unset."""
    for entry in map(mapping, sequence(container.spec.get("env"))):
        if entry.get("name") != variable:
            continue
        if "value" in entry:
            return ("literal", "", "")
        for kind, field in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            reference = mapping(dig(entry, "valueFrom", field))
            if reference:
                return (kind, str(reference.get("name")), str(reference.get("key")))
        return ("other", "", "")
    for source in map(mapping, sequence(container.spec.get("envFrom"))):
        for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if mapping(source.get(field)) and not source.get("prefix"):
                return (kind, str(dig(source, field, "name")), variable)
    return None


@rule(
    "CFG-APP-ENV",
    "FR-004",
    "each app gets its settings from ConfigMap taskflow-config and its secrets from Secret taskflow-secrets",
    "add env entries with valueFrom configMapKeyRef/secretKeyRef (same key name) for each setting",
)
def app_environment(manifests: Manifests) -> Iterator[Finding]:
    for app in APPS:
        container = manifests.app_container(app.kind, app.name)
        if container is None:
            continue
        wanted = [("ConfigMap", CONFIG_MAP, key) for key in app.config_env]
        wanted += [("Secret", SECRET, key) for key in app.secret_env]
        for kind, name, key in wanted:
            source = _env_source(container, key)
            if source is None:
                yield Finding(container.subject, f"does not get {key}")
            elif source != (kind, name, key):
                shown = (
                    "a literal value"
                    if source[0] == "literal"
                    else f"{source[0]}/{source[1]} key {source[2]}"
                )
                yield Finding(container.subject, f"takes {key} from {shown}, not {kind}/{name}")


def _references(container: Container) -> Iterator[tuple[str, str, str | None, bool]]:
    """(kind, name, key or None, optional) for every ConfigMap/Secret the container reads."""
    for entry in sequence(container.spec.get("env")):
        for kind, field in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            reference = mapping(dig(entry, "valueFrom", field))
            if reference:
                optional = reference.get("optional") is True
                yield kind, str(reference.get("name")), str(reference.get("key")), optional
    for source in sequence(container.spec.get("envFrom")):
        for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            reference = mapping(mapping(source).get(field))
            if reference:
                yield kind, str(reference.get("name")), None, reference.get("optional") is True


def _volume_references(pod: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    for volume in sequence(pod.get("volumes")):
        configmap = mapping(mapping(volume).get("configMap"))
        secret = mapping(mapping(volume).get("secret"))
        if configmap:
            yield "ConfigMap", str(configmap.get("name")), configmap.get("optional") is True
        if secret:
            yield "Secret", str(secret.get("secretName")), secret.get("optional") is True


@rule(
    "CFG-REFERENCES-RESOLVE",
    "FR-010",
    "every ConfigMap/Secret a pod reads (env, envFrom, volumes) exists in the manifests with that key",
    "create the object/key in the manifests or correct the reference",
)
def references_resolve(manifests: Manifests) -> Iterator[Finding]:
    def keys_of(kind: str, name: str, namespace: str | None) -> set[str] | None:
        for obj in manifests.of_kind(kind):
            if dig(obj, "metadata", "name") == name and namespace_of(obj) == namespace:
                return set(secret_values(obj)) if kind == "Secret" else set(mapping(obj.get("data")))
        return None

    for container in manifests.containers():
        namespace = namespace_of(container.workload)
        for kind, name, key, optional in _references(container):
            keys = keys_of(kind, name, namespace)
            if optional:
                continue
            if keys is None:
                yield Finding(container.subject, f"reads {kind}/{name}, which the manifests do not contain")
            elif key is not None and key not in keys:
                yield Finding(container.subject, f"reads key {key} of {kind}/{name}, which has no such key")
    for workload in manifests.workloads():
        pod = mapping(dig(workload, "spec", "template", "spec"))
        for kind, name, optional in _volume_references(pod):
            if not optional and keys_of(kind, name, namespace_of(workload)) is None:
                yield Finding(ref(workload), f"mounts {kind}/{name}, which the manifests do not contain")
