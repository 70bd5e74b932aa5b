"""The namespace enforces the restricted Pod Security Standard."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.model import Finding, rule
from harness.policy.objects import Manifests, dig, mapping, name_of

PSS_MODES = ("enforce", "audit", "warn")
PSS_LEVEL = "restricted"


@rule(
    "NS-PSS-RESTRICTED",
    "FR-001",
    "every namespace the objects live in is created with Pod Security enforce/audit/warn=restricted",
    "add a Namespace object with labels pod-security.kubernetes.io/{enforce,audit,warn}: restricted",
)
def namespace_pss_restricted(manifests: Manifests) -> Iterator[Finding]:
    created = {name_of(ns): ns for ns in manifests.of_kind("Namespace")}
    for namespace in sorted(manifests.namespaces()):
        if namespace not in created:
            yield Finding(f"Namespace/{namespace}", "is used but not created with Pod Security labels")
            continue
        labels = mapping(dig(created[namespace], "metadata", "labels"))
        wrong = [
            f"{mode}={labels.get(f'pod-security.kubernetes.io/{mode}', '<unset>')}"
            for mode in PSS_MODES
            if labels.get(f"pod-security.kubernetes.io/{mode}") != PSS_LEVEL
        ]
        if wrong:
            yield Finding(f"Namespace/{namespace}", f"Pod Security is not restricted ({', '.join(wrong)})")
