"""Read-only views over rendered objects: lookup, pod templates, containers, names for messages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Manifest = dict[str, Any]

POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
CLUSTER_SCOPED_KINDS = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "IngressClass", "PersistentVolume"}
)


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a mapping, else empty: rules read malformed objects without crashing."""
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = mapping(value).get(key)
    return value


def name_of(obj: Manifest) -> str:
    return str(dig(obj, "metadata", "name") or "<unnamed>")


def namespace_of(obj: Manifest) -> str | None:
    namespace = dig(obj, "metadata", "namespace")
    return str(namespace) if namespace else None


def ref(obj: Manifest) -> str:
    """`Kind/namespace/name` (or `Kind/name` when cluster-scoped), as messages name objects."""
    kind = obj.get("kind", "<no kind>")
    namespace = namespace_of(obj)
    return f"{kind}/{namespace}/{name_of(obj)}" if namespace else f"{kind}/{name_of(obj)}"


def labels_match(selector: Any, labels: Mapping[str, str]) -> bool:
    """Kubernetes LabelSelector semantics; an empty selector matches everything."""
    selector = mapping(selector)
    for key, value in mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expression in map(mapping, sequence(selector.get("matchExpressions"))):
        name, operator = str(expression.get("key")), expression.get("operator")
        values = sequence(expression.get("values"))
        present = name in labels
        if operator == "In" and not (present and labels[name] in values):
            return False
        if operator == "NotIn" and present and labels[name] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


@dataclass(frozen=True)
class Container:
    """A container (or init container) of a workload's pod template."""

    workload: Manifest
    spec: Manifest
    init: bool

    @property
    def name(self) -> str:
        return str(self.spec.get("name", "<unnamed>"))

    @property
    def pod(self) -> Manifest:
        return pod_spec(self.workload)

    @property
    def subject(self) -> str:
        role = "init container" if self.init else "container"
        return f"{ref(self.workload)} {role} {self.name}"


def pod_template(workload: Manifest) -> Manifest:
    return mapping(dig(workload, "spec", "template"))


def pod_spec(workload: Manifest) -> Manifest:
    return mapping(pod_template(workload).get("spec"))


def pod_labels(workload: Manifest) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping(dig(pod_template(workload), "metadata", "labels")).items()}


@dataclass(frozen=True)
class Manifests:
    """The rendered objects of one overlay (or directory)."""

    objects: Sequence[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [obj for obj in self.objects if obj.get("kind") == kind]

    def get(self, kind: str, name: str) -> Manifest | None:
        return next((obj for obj in self.of_kind(kind) if name_of(obj) == name), None)

    def workloads(self) -> list[Manifest]:
        return [obj for obj in self.objects if obj.get("kind") in POD_TEMPLATE_KINDS]

    def containers(self, *, include_init: bool = True) -> Iterator[Container]:
        for workload in self.workloads():
            spec = pod_spec(workload)
            if include_init:
                for container in sequence(spec.get("initContainers")):
                    yield Container(workload, mapping(container), init=True)
            for container in sequence(spec.get("containers")):
                yield Container(workload, mapping(container), init=False)

    def app_container(self, kind: str, name: str) -> Container | None:
        """The container named like its workload (the app itself, not a sidecar)."""
        workload = self.get(kind, name)
        if workload is None:
            return None
        for container in sequence(pod_spec(workload).get("containers")):
            if mapping(container).get("name") == name:
                return Container(workload, container, init=False)
        return None

    def namespaces(self) -> set[str]:
        return {ns for obj in self.objects if (ns := namespace_of(obj)) is not None}

    def workloads_selected_by(self, selector: Any, namespace: str | None) -> list[Manifest]:
        return [
            workload
            for workload in self.workloads()
            if namespace_of(workload) == namespace and labels_match(selector, pod_labels(workload))
        ]
