"""Every container declares CPU and memory requests and limits, requests within limits."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from harness.policy.model import Finding, rule
from harness.policy.objects import Manifests, dig, mapping

RESOURCES = ("cpu", "memory")
SUFFIXES = {
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
}


def parse_quantity(value: object) -> Decimal | None:
    """A Kubernetes quantity (`100m`, `1.5`, `256Mi`) as a number; None if it is not one."""
    text = str(value).strip()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            number, factor = text[: -len(suffix)], SUFFIXES[suffix]
            break
    else:
        number, factor = text, Decimal(1)
    try:
        return Decimal(number) * factor
    except InvalidOperation:
        return None


@rule(
    "RES-REQUESTS-LIMITS",
    "FR-007",
    "every container, init containers included, sets cpu and memory requests and limits",
    "set resources.requests and resources.limits for cpu and memory",
)
def requests_and_limits(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        resources = mapping(container.spec.get("resources"))
        missing = [
            f"{kind}.{resource}"
            for kind in ("requests", "limits")
            for resource in RESOURCES
            if parse_quantity(dig(resources, kind, resource)) is None
        ]
        if missing:
            yield Finding(container.subject, f"missing or invalid {', '.join(missing)}")


@rule(
    "RES-REQUESTS-WITHIN-LIMITS",
    "FR-007",
    "every request is at most its limit (else the API server rejects the pod)",
    "lower the request or raise the limit",
)
def requests_within_limits(manifests: Manifests) -> Iterator[Finding]:
    for container in manifests.containers():
        resources = mapping(container.spec.get("resources"))
        for resource in RESOURCES:
            request = parse_quantity(dig(resources, "requests", resource))
            limit = parse_quantity(dig(resources, "limits", resource))
            if request is not None and limit is not None and request > limit:
                yield Finding(
                    container.subject,
                    f"{resource} request {dig(resources, 'requests', resource)} exceeds "
                    f"limit {dig(resources, 'limits', resource)}",
                )
