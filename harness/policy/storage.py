"""Postgres keeps its data on a dynamically provisioned PersistentVolumeClaim."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.contracts import POSTGRES_CLAIM, POSTGRES_DATA_PATH
from harness.policy.model import Finding, rule
from harness.policy.objects import Manifests, dig, mapping, ref, sequence
from harness.policy.resources import parse_quantity


@rule(
    "STO-POSTGRES-CLAIM",
    "FR-008",
    f"StatefulSet postgres has volumeClaimTemplate {POSTGRES_CLAIM!r} (ReadWriteOnce, a size, the default "
    f"StorageClass) mounted at {POSTGRES_DATA_PATH}, with PGDATA inside it",
    f"add volumeClaimTemplates[{POSTGRES_CLAIM}] (no storageClassName), mounted at {POSTGRES_DATA_PATH}",
)
def postgres_claim(manifests: Manifests) -> Iterator[Finding]:
    postgres = manifests.get("StatefulSet", "postgres")
    if postgres is None:
        return
    templates = {
        dig(template, "metadata", "name"): mapping(template)
        for template in sequence(dig(postgres, "spec", "volumeClaimTemplates"))
    }
    claim = templates.get(POSTGRES_CLAIM)
    if claim is None:
        yield Finding(ref(postgres), f"has no volumeClaimTemplate {POSTGRES_CLAIM!r}")
        return
    spec = mapping(claim.get("spec"))
    if "storageClassName" in spec:
        yield Finding(
            ref(postgres), f"claim {POSTGRES_CLAIM!r} pins storageClassName {spec['storageClassName']!r}"
        )
    if sequence(spec.get("accessModes")) != ["ReadWriteOnce"]:
        yield Finding(ref(postgres), f"claim {POSTGRES_CLAIM!r} access modes are {spec.get('accessModes')}")
    if parse_quantity(dig(spec, "resources", "requests", "storage")) is None:
        yield Finding(ref(postgres), f"claim {POSTGRES_CLAIM!r} requests no storage size")
    container = manifests.app_container("StatefulSet", "postgres")
    if container is None:
        return
    mounts = {
        mapping(m).get("mountPath"): mapping(m).get("name")
        for m in sequence(container.spec.get("volumeMounts"))
    }
    if mounts.get(POSTGRES_DATA_PATH) != POSTGRES_CLAIM:
        yield Finding(container.subject, f"does not mount claim {POSTGRES_CLAIM!r} at {POSTGRES_DATA_PATH}")
    pgdata = next(
        (
            mapping(e).get("value")
            for e in sequence(container.spec.get("env"))
            if mapping(e).get("name") == "PGDATA"
        ),
        None,
    )
    if not str(pgdata).startswith(POSTGRES_DATA_PATH + "/"):
        yield Finding(container.subject, f"PGDATA {pgdata} is not inside {POSTGRES_DATA_PATH}")
