"""Each app has its own ServiceAccount and no API token mounted."""

from __future__ import annotations

from collections.abc import Iterator

from harness.policy.model import Finding, rule
from harness.policy.objects import Manifests, name_of, namespace_of, pod_spec, ref


@rule(
    "SA-DEDICATED",
    "FR-001",
    "every workload runs under its own ServiceAccount, declared in the manifests (never `default`)",
    "add a ServiceAccount named after the app and set spec.template.spec.serviceAccountName to it",
)
def dedicated_service_account(manifests: Manifests) -> Iterator[Finding]:
    declared = {(namespace_of(sa), name_of(sa)) for sa in manifests.of_kind("ServiceAccount")}
    users: dict[str, str] = {}
    for workload in manifests.workloads():
        account = pod_spec(workload).get("serviceAccountName")
        if not account or account == "default":
            yield Finding(ref(workload), "runs under the default ServiceAccount")
        elif (namespace_of(workload), account) not in declared:
            yield Finding(
                ref(workload), f"names ServiceAccount {account!r}, which the manifests do not declare"
            )
        elif account in users:
            yield Finding(ref(workload), f"shares ServiceAccount {account!r} with {users[account]}")
        else:
            users[account] = ref(workload)


@rule(
    "SA-NO-TOKEN",
    "FR-010",
    "no pod gets a service-account token: automountServiceAccountToken: false on accounts and pods",
    "set automountServiceAccountToken: false on the ServiceAccount and the pod spec",
)
def no_service_account_token(manifests: Manifests) -> Iterator[Finding]:
    for account in manifests.of_kind("ServiceAccount"):
        if account.get("automountServiceAccountToken") is not False:
            yield Finding(ref(account), "mounts its token into pods by default")
    for workload in manifests.workloads():
        if pod_spec(workload).get("automountServiceAccountToken") is not False:
            yield Finding(ref(workload), "its pods do not set automountServiceAccountToken: false")
