"""The services run as their own workloads, with pinned images, and fit on a single node."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.contracts import APPS
from harness.policy.model import Finding, rule
from harness.policy.objects import Manifests, dig, labels_match, mapping, pod_labels, pod_spec, ref, sequence

REQUIRED_PULL_POLICY = "IfNotPresent"


@rule(
    "WL-SEPARATE-WORKLOADS",
    "FR-001",
    "Deployments frontend, backend, mcp-server and StatefulSet postgres, each selecting only its own pods "
    "and running only its own image",
    "declare the workload with the contract name and a selector on app.kubernetes.io/name=<app>",
)
def separate_workloads(manifests: Manifests) -> Iterator[Finding]:
    for app in APPS:
        workload = manifests.get(app.kind, app.name)
        if workload is None:
            yield Finding(f"{app.kind}/{app.name}", "is missing")
            continue
        selector = dig(workload, "spec", "selector")
        if not mapping(selector) or not labels_match(selector, pod_labels(workload)):
            yield Finding(
                ref(workload), "its selector is empty or does not match its own pod template labels"
            )
            continue
        for other in APPS:
            other_workload = manifests.get(other.kind, other.name)
            if other is not app and other_workload and labels_match(selector, pod_labels(other_workload)):
                yield Finding(ref(workload), f"its selector also matches the pods of {ref(other_workload)}")
        for container in sequence(dig(pod_spec(workload), "containers")):
            image, name = str(dig(container, "image") or ""), dig(container, "name")
            for other in APPS:
                if other is not app and f"/{other.name}:" in image:
                    yield Finding(ref(workload), f"container {name} runs {other.name}'s image")


def _image_is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name_part = image.rsplit("/", 1)[-1]
    if ":" not in name_part:
        return False
    return name_part.rsplit(":", 1)[1] not in ("", "latest")


@rule(
    "WL-IMAGE-PINNED",
    "FR-001",
    "every container image names an explicit tag (never :latest) or a digest",
    "give the image an explicit version tag, e.g. localhost/taskflow/<app>:0.1.0",
)
def image_pinned(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        image = str(container.spec.get("image", ""))
        if not _image_is_pinned(image):
            yield Finding(container.subject, f"image {image!r} is not pinned to a tag or digest")


@rule(
    "WL-PULL-IF-NOT-PRESENT",
    "FR-001",
    "every container sets imagePullPolicy: IfNotPresent (images are loaded into the node, not pulled)",
    "set imagePullPolicy: IfNotPresent",
)
def pull_if_not_present(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        policy = container.spec.get("imagePullPolicy")
        if policy != REQUIRED_PULL_POLICY:
            yield Finding(container.subject, f"imagePullPolicy is {policy or '<unset>'}")


@rule(
    "WL-SINGLE-NODE-SCHEDULABLE",
    "FR-001",
    "no required pod anti-affinity and no DoNotSchedule topology spread: pods must fit on one node",
    "use preferredDuringScheduling anti-affinity or whenUnsatisfiable: ScheduleAnyway",
)
def single_node_schedulable(manifests: Manifests) -> Iterator[Finding]:
    for workload in manifests.workloads():
        spec = pod_spec(workload)
        if sequence(
            dig(spec, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
        ):
            yield Finding(
                ref(workload), "has required pod anti-affinity, which leaves replicas Pending on one node"
            )
        for constraint in sequence(spec.get("topologySpreadConstraints")):
            if mapping(constraint).get("whenUnsatisfiable") == "DoNotSchedule":
                yield Finding(ref(workload), "has a DoNotSchedule topology spread constraint")
