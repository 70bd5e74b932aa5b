"""Scaling: the backend scales on CPU, and autoscaled workloads leave the replica count to the HPA."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.model import Finding, rule
from harness.policy.objects import Manifest, Manifests, dig, mapping, ref, sequence


def _target(hpa: Manifest) -> tuple[str, str]:
    target = mapping(dig(hpa, "spec", "scaleTargetRef"))
    return str(target.get("kind")), str(target.get("name"))


def _scales_on_cpu_utilization(hpa: Manifest) -> bool:
    for metric in map(mapping, sequence(dig(hpa, "spec", "metrics"))):
        if (
            metric.get("type") == "Resource"
            and dig(metric, "resource", "name") == "cpu"
            and dig(metric, "resource", "target", "type") == "Utilization"
            and isinstance(dig(metric, "resource", "target", "averageUtilization"), int)
        ):
            return True
    return False


@rule(
    "HPA-BACKEND-CPU",
    "FR-005",
    "a HorizontalPodAutoscaler (autoscaling/v2) scales Deployment backend on CPU utilization, max > min",
    "add an autoscaling/v2 HPA for Deployment backend: cpu Utilization metric, maxReplicas > minReplicas",
)
def backend_cpu_autoscaler(manifests: Manifests) -> Iterator[Finding]:
    autoscalers = [
        hpa
        for hpa in manifests.of_kind("HorizontalPodAutoscaler")
        if _target(hpa) == ("Deployment", "backend")
    ]
    if not autoscalers:
        yield Finding("Deployment/backend", "no HorizontalPodAutoscaler targets it")
        return
    for hpa in autoscalers:
        spec = mapping(hpa.get("spec"))
        if hpa.get("apiVersion") != "autoscaling/v2":
            yield Finding(ref(hpa), f"uses {hpa.get('apiVersion')}, not autoscaling/v2")
        if not _scales_on_cpu_utilization(hpa):
            yield Finding(ref(hpa), "has no cpu Utilization metric")
        minimum, maximum = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
        if not (isinstance(minimum, int) and isinstance(maximum, int) and maximum > minimum >= 1):
            yield Finding(ref(hpa), f"cannot scale: minReplicas {minimum}, maxReplicas {maximum}")


@rule(
    "HPA-OWNS-REPLICAS",
    "FR-005",
    "every HPA targets a workload in the manifests, and that workload sets no spec.replicas",
    "remove spec.replicas from the autoscaled workload (re-applying would reset the HPA's scale)",
)
def autoscaler_owns_replicas(manifests: Manifests) -> Iterator[Finding]:
    for hpa in manifests.of_kind("HorizontalPodAutoscaler"):
        kind, name = _target(hpa)
        workload = manifests.get(kind, name)
        if workload is None:
            yield Finding(ref(hpa), f"targets {kind}/{name}, which the manifests do not contain")
        elif "replicas" in mapping(workload.get("spec")):
            yield Finding(ref(workload), f"sets spec.replicas although {ref(hpa)} owns the count")
