"""The static gate over kube-score's findings: waivers applied, FR attached, one line per problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from textwrap import shorten

from harness.policy.kubescore import KUBE_SCORE, ScoredCheck, requirement_of, score
from harness.policy.objects import Manifest
from harness.policy.waivers import WAIVERS_FILE, Waiver, load_waivers

WAIVER_REASON_SHOWN = 90
DOCS = f"https://github.com/zegl/kube-score/blob/{KUBE_SCORE.version}/README_CHECKS.md"
# How to fix the findings we have met; any other check points at kube-score's own list.
FIXES: dict[str, str] = {
    "pod-probes-identical": "give readiness its own endpoint (it may check dependencies) and keep liveness "
    "on the process alone",
    "pod-probes": "add a readinessProbe (and a livenessProbe) to the pod's container",
    "container-resources": "set cpu and memory requests and limits",
    "container-ephemeral-storage-request-and-limit": "set resources.requests and resources.limits "
    "ephemeral-storage on the container",
    "container-image-pull-policy": "set imagePullPolicy: Always",
    "container-image-tag": "pin the image to an explicit tag other than latest",
    "container-security-context-user-group-id": "set runAsUser and runAsGroup above 10000",
    "container-security-context-privileged": "set securityContext.privileged: false",
    "container-security-context-readonlyrootfilesystem": "set securityContext.readOnlyRootFilesystem: true",
    "deployment-has-poddisruptionbudget": "add a PodDisruptionBudget that selects the Deployment's pods",
    "statefulset-has-poddisruptionbudget": "add a PodDisruptionBudget that selects the StatefulSet's pods",
    "deployment-replicas": "run at least 2 replicas (or let an HPA with minReplicas >= 2 own them)",
    "deployment-has-host-podantiaffinity": "add a preferred podAntiAffinity on kubernetes.io/hostname",
    "pod-networkpolicy": "add a NetworkPolicy that selects the pod for ingress and egress",
    "networkpolicy-targets-pod": "fix the NetworkPolicy's podSelector so it selects a pod",
    "service-targets-pod": "make the Service's selector match a workload's pod labels",
    "ingress-targets-service": "point the Ingress backend at an existing Service",
    "deployment-targeted-by-hpa-does-not-have-replicas-configured": "remove spec.replicas; the HPA owns it",
    "horizontalpodautoscaler-has-target": "point scaleTargetRef at an existing workload",
    "stable-version": "use the stable apiVersion",
    "environment-variable-key-duplication": "remove the duplicated environment variable",
    "statefulset-has-servicename": "set serviceName to an existing headless Service",
}


@dataclass(frozen=True)
class PeerFinding:
    """A kube-score check that did not pass on one object."""

    scored: ScoredCheck
    requirement: str
    waiver: Waiver | None

    @property
    def severity(self) -> str:
        return self.scored.severity or "OK"

    @property
    def blocking(self) -> bool:
        return self.severity == "CRITICAL" and self.waiver is None

    def __str__(self) -> str:
        said = "; ".join(self.scored.comments) or self.scored.check_name
        fix = FIXES.get(self.scored.check_id, f"see {DOCS}")
        line = (
            f"{self.scored.subject}: {said} [kube-score {self.scored.check_id}, {self.requirement}, "
            f"{self.severity}]"
        )
        if self.waiver is not None:
            return f"{line} waived: {shorten(self.waiver.reason, WAIVER_REASON_SHOWN)}"
        return f"{line} (fix: {fix}, or waive it with a reason in {WAIVERS_FILE.name})"


@dataclass(frozen=True)
class StaleWaiver:
    waiver: Waiver
    subject: str

    def __str__(self) -> str:
        return (
            f"{WAIVERS_FILE.name}: waiver for {self.waiver.check_id} on {self.subject} is stale: "
            "kube-score no longer finds it (fix: remove it from the waiver file)"
        )


@dataclass(frozen=True)
class PeerVerdict:
    checks: tuple[ScoredCheck, ...]
    findings: tuple[PeerFinding, ...]
    stale: tuple[StaleWaiver, ...]

    @property
    def blocking(self) -> tuple[PeerFinding, ...]:
        return tuple(finding for finding in self.findings if finding.blocking)

    @property
    def passed(self) -> bool:
        return not self.blocking

    def requirements(self) -> list[str]:
        return sorted({requirement_of(check.check_id) for check in self.checks})

    def checks_for(self, requirement: str) -> list[str]:
        return sorted({c.check_id for c in self.checks if requirement_of(c.check_id) == requirement})

    def findings_for(self, requirement: str) -> list[PeerFinding]:
        return [finding for finding in self.findings if finding.requirement == requirement]

    def stale_for(self, requirement: str) -> list[StaleWaiver]:
        return [item for item in self.stale if requirement_of(item.waiver.check_id) == requirement]


def judge(checks: Sequence[ScoredCheck], waivers: Sequence[Waiver]) -> PeerVerdict:
    findings = tuple(
        PeerFinding(
            check,
            requirement_of(check.check_id),
            next((waiver for waiver in waivers if waiver.covers(check.check_id, check.subject)), None),
        )
        for check in sorted(checks, key=lambda check: (check.subject, check.check_id))
        if check.severity is not None
    )
    used = {(f.waiver.check_id, f.scored.subject) for f in findings if f.waiver is not None}
    stale = tuple(
        StaleWaiver(waiver, subject)
        for waiver in waivers
        for subject in waiver.subjects
        if (waiver.check_id, subject) not in used
    )
    return PeerVerdict(tuple(checks), findings, stale)


def peer_review(objects: Sequence[Manifest], waivers: Sequence[Waiver] | None = None) -> PeerVerdict:
    """kube-score over the objects, judged by the committed waivers (read first: bad input fails early)."""
    accepted = load_waivers() if waivers is None else waivers
    return judge(score(objects), accepted)


def format_verdict(title: str, verdict: PeerVerdict) -> str:
    skipped = sum(check.skipped for check in verdict.checks)
    ok = sum(check.severity is None for check in verdict.checks) - skipped
    lines = [f"{title}: kube-score {KUBE_SCORE.version}"]
    lines.extend(f"  - {finding}" for finding in verdict.findings)
    lines.extend(f"  - {stale}" for stale in verdict.stale)
    critical = sum(f.severity == "CRITICAL" for f in verdict.findings)
    warning = sum(f.severity == "WARNING" for f in verdict.findings)
    waived = sum(f.waiver is not None for f in verdict.findings)
    lines.append(
        f"  {ok} OK, {skipped} skipped, {critical} CRITICAL, {warning} WARNING "
        f"({waived} waived, {len(verdict.blocking)} blocking), "
        f"{len(verdict.stale)} stale waiver(s)"
    )
    return "\n".join(lines)
