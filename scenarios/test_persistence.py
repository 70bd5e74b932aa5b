"""FR-008: the database keeps its data on a dynamically provisioned claim.

That the data survives the database pod being killed under writes (FR-008, SC-005) is the
Chaos Toolkit experiment chaos/postgres-kill-under-writes.yaml (scenarios/test_chaos.py)."""

from __future__ import annotations

import pytest

from harness.deploy import Deployment
from harness.recorder import EvidenceRecorder


@pytest.mark.criterion("FR-008")
def test_database_claim_is_bound_on_default_class(deployment: Deployment, evidence: EvidenceRecorder) -> None:
    claims = deployment.kube.core.list_namespaced_persistent_volume_claim(deployment.namespace).items
    data_claims = [claim for claim in claims if claim.metadata.name.startswith("data-postgres-")]
    bound = [claim for claim in data_claims if claim.status.phase == "Bound"]
    evidence.check(
        "FR-008",
        "postgres volumeClaimTemplate 'data' bound by dynamic provisioning",
        ok=bool(data_claims) and len(bound) == len(data_claims),
        metric="bound claims",
        value=len(bound),
        budget=f"= {len(data_claims) or 1}",
        detail=", ".join(
            f"{c.metadata.name}→{c.spec.volume_name} ({c.spec.storage_class_name})" for c in claims
        ),
    )
