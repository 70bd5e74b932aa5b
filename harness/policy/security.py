"""The restricted securityContext on every container, init containers included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.policy.contracts import APP_GID, APP_UID
from harness.policy.model import Finding, rule
from harness.policy.objects import Container, Manifests, dig, mapping, pod_spec, ref, sequence


def _effective(container: Container, field: str) -> Any:
    """The container's value, else the pod's (as the kubelet resolves it)."""
    own = mapping(container.spec.get("securityContext"))
    if field in own:
        return own[field]
    return mapping(container.pod.get("securityContext")).get(field)


def _own(container: Container, field: str) -> Any:
    return mapping(container.spec.get("securityContext")).get(field)


@rule(
    "SEC-RUN-AS-NON-ROOT",
    "FR-001",
    f"every container runs with runAsNonRoot: true as uid/gid {APP_UID}/{APP_GID}",
    f"set securityContext runAsNonRoot: true, runAsUser: {APP_UID}, runAsGroup: {APP_GID}",
)
def run_as_non_root(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        problems = []
        if _effective(container, "runAsNonRoot") is not True:
            problems.append("runAsNonRoot is not true")
        if _effective(container, "runAsUser") != APP_UID:
            problems.append(f"runAsUser is {_effective(container, 'runAsUser')}, not {APP_UID}")
        if _effective(container, "runAsGroup") != APP_GID:
            problems.append(f"runAsGroup is {_effective(container, 'runAsGroup')}, not {APP_GID}")
        if problems:
            yield Finding(container.subject, "; ".join(problems))


@rule(
    "SEC-READ-ONLY-ROOT",
    "FR-001",
    "every container has readOnlyRootFilesystem: true",
    "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app writes",
)
def read_only_root(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        if _own(container, "readOnlyRootFilesystem") is not True:
            yield Finding(container.subject, "the root filesystem is writable")


@rule(
    "SEC-NO-PRIVILEGE-ESCALATION",
    "FR-001",
    "every container sets allowPrivilegeEscalation: false and is not privileged",
    "set securityContext.allowPrivilegeEscalation: false and drop privileged",
)
def no_privilege_escalation(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        if _own(container, "allowPrivilegeEscalation") is not False:
            yield Finding(container.subject, "allowPrivilegeEscalation is not false")
        if _own(container, "privileged") is True:
            yield Finding(container.subject, "runs privileged")


@rule(
    "SEC-DROP-ALL-CAPABILITIES",
    "FR-001",
    "every container drops ALL capabilities and adds none",
    "set securityContext.capabilities: {drop: [ALL]} with no add",
)
def drop_all_capabilities(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        capabilities = mapping(_own(container, "capabilities"))
        if "ALL" not in sequence(capabilities.get("drop")):
            yield Finding(container.subject, "does not drop ALL capabilities")
        if sequence(capabilities.get("add")):
            yield Finding(container.subject, f"adds capabilities {sequence(capabilities.get('add'))}")


@rule(
    "SEC-SECCOMP-RUNTIME-DEFAULT",
    "FR-001",
    "every container runs with seccompProfile type RuntimeDefault",
    "set securityContext.seccompProfile.type: RuntimeDefault (pod or container)",
)
def seccomp_runtime_default(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        profile = dig(_effective(container, "seccompProfile"), "type")
        if profile != "RuntimeDefault":
            yield Finding(container.subject, f"seccompProfile is {profile or '<unset>'}")


@rule(
    "SEC-TMP-EMPTYDIR",
    "FR-001",
    "every container mounts an emptyDir at /tmp (the only writable path besides data volumes)",
    "add an emptyDir volume and mount it at /tmp",
)
def tmp_empty_dir(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        volumes = {mapping(v).get("name"): mapping(v) for v in sequence(container.pod.get("volumes"))}
        mount = next(
            (
                mapping(m)
                for m in sequence(container.spec.get("volumeMounts"))
                if mapping(m).get("mountPath") == "/tmp"
            ),
            None,
        )
        if mount is None:
            yield Finding(container.subject, "has no volume mounted at /tmp")
        elif "emptyDir" not in volumes.get(mount.get("name"), {}):
            yield Finding(container.subject, f"/tmp is volume {mount.get('name')!r}, not an emptyDir")


@rule(
    "SEC-NO-HOST-ACCESS",
    "FR-001",
    "no pod uses host namespaces, hostPath volumes or hostPorts (the restricted standard rejects them)",
    "remove hostNetwork/hostPID/hostIPC, hostPath volumes and hostPort; use a Service and a PVC instead",
)
def no_host_access(manifests: Manifests) -> Iterator[Finding]:
    for workload in manifests.workloads():
        spec = pod_spec(workload)
        shared = [field for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field) is True]
        if shared:
            yield Finding(ref(workload), f"shares the host's {', '.join(shared)}")
        for volume in map(mapping, sequence(spec.get("volumes"))):
            if "hostPath" in volume:
                yield Finding(ref(workload), f"mounts hostPath volume {volume.get('name')!r}")
    for container in manifests.containers():
        for port in map(mapping, sequence(container.spec.get("ports"))):
            if port.get("hostPort"):
                yield Finding(container.subject, f"binds hostPort {port['hostPort']}")
