"""Schema validity against the pinned Kubernetes version's OpenAPI, strict (unknown fields fail)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache

import kubernetes_validate

from harness.policy.model import Finding, rule
from harness.policy.objects import Manifest, Manifests, ref

# The version the embedded cluster runs (cluster/README.md); kind and minikube runs pin the same.
KUBERNETES_VERSION = "1.34"
UNKNOWN_FIELD = re.compile(
    r"Additional properties are not allowed \((?P<fields>.*) (?:was|were) unexpected\)"
)


def _json_path(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "<top level>"


@lru_cache(maxsize=4096)
def _problem(canonical: str) -> str | None:
    """The schema problem of one object (as canonical JSON, so identical objects are checked once)."""
    obj = json.loads(canonical)
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = _json_path(list(error.absolute_path))
        unknown = UNKNOWN_FIELD.search(error.message)
        if unknown:
            return f"unknown field {unknown['fields']} at {where}"
        return f"{error.message} at {where}"
    except kubernetes_validate.SchemaNotFoundError:
        return f"Kubernetes {KUBERNETES_VERSION} has no kind {obj.get('kind')} in API {obj.get('apiVersion')}"
    return None


def schema_problem(obj: Manifest) -> str | None:
    if not isinstance(obj.get("kind"), str) or not isinstance(obj.get("apiVersion"), str):
        return "has no apiVersion/kind"
    return _problem(json.dumps(obj, sort_keys=True, default=str))


@rule(
    "K8S-SCHEMA",
    "FR-001",
    f"every object is valid against the Kubernetes {KUBERNETES_VERSION} OpenAPI schema; unknown fields fail",
    f"correct the field as the Kubernetes {KUBERNETES_VERSION} API reference spells it, or remove it",
)
def kubernetes_schema(manifests: Manifests) -> Iterator[Finding]:
    for obj in manifests.objects:
        problem = schema_problem(obj)
        if problem:
            yield Finding(ref(obj), problem)
