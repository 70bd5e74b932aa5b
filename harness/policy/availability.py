"""PodDisruptionBudgets for the stateless services that never block a single-node drain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.policy.contracts import APPS
from harness.policy.model import Finding, rule
from harness.policy.objects import Manifest, Manifests, dig, labels_match, mapping, pod_labels, ref


def _covering_budgets(manifests: Manifests, workload: Manifest) -> list[Manifest]:
    return [
        pdb
        for pdb in manifests.of_kind("PodDisruptionBudget")
        if mapping(dig(pdb, "spec", "selector"))
        and labels_match(dig(pdb, "spec", "selector"), pod_labels(workload))
    ]


@rule(
    "PDB-STATELESS-SERVICES",
    "FR-005",
    "frontend, backend and mcp-server are each covered by a PodDisruptionBudget (policy/v1)",
    "add a policy/v1 PodDisruptionBudget selecting app.kubernetes.io/name=<app> with maxUnavailable: 1",
)
def stateless_budgets(manifests: Manifests) -> Iterator[Finding]:
    for app in APPS:
        workload = manifests.get(app.kind, app.name)
        if app.stateless and workload is not None and not _covering_budgets(manifests, workload):
            yield Finding(ref(workload), "no PodDisruptionBudget selects its pods")


def _lowest_replicas(manifests: Manifests, workload: Manifest) -> int:
    for hpa in manifests.of_kind("HorizontalPodAutoscaler"):
        target = mapping(dig(hpa, "spec", "scaleTargetRef"))
        if (target.get("kind"), target.get("name")) == (
            workload.get("kind"),
            dig(workload, "metadata", "name"),
        ):
            minimum = dig(hpa, "spec", "minReplicas")
            return minimum if isinstance(minimum, int) else 1
    replicas = dig(workload, "spec", "replicas")
    return replicas if isinstance(replicas, int) else 1


def _blocks_drain(budget: Any, replicas: int, *, max_unavailable: bool) -> bool:
    if isinstance(budget, str) and budget.endswith("%"):
        percent = int(budget[:-1] or 0)
        return percent == 0 if max_unavailable else percent >= 100 or replicas <= 1
    if isinstance(budget, int):
        return budget < 1 if max_unavailable else budget >= replicas
    return True


@rule(
    "PDB-ALLOWS-DRAIN",
    "FR-005",
    "no PodDisruptionBudget forbids every eviction (a single node must stay drainable)",
    "use maxUnavailable: 1 instead of a minAvailable that equals the replica count",
)
def budgets_allow_drain(manifests: Manifests) -> Iterator[Finding]:
    for pdb in manifests.of_kind("PodDisruptionBudget"):
        spec = mapping(pdb.get("spec"))
        for workload in manifests.workloads_selected_by(
            spec.get("selector"), dig(pdb, "metadata", "namespace")
        ):
            replicas = _lowest_replicas(manifests, workload)
            if "maxUnavailable" in spec:
                blocked = _blocks_drain(spec["maxUnavailable"], replicas, max_unavailable=True)
            else:
                blocked = _blocks_drain(spec.get("minAvailable"), replicas, max_unavailable=False)
            if blocked:
                yield Finding(ref(pdb), f"allows no eviction of {ref(workload)} at {replicas} replica(s)")
