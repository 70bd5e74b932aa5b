"""kube-score, a peer linter's second opinion on the rendered manifests.

Our own rules check the contracts only this project knows; kube-score checks the generic hygiene
platform engineers already expect. It is pinned and built once from the Go module proxy into the
version-keyed cache, like kustomize. Each of its check ids serves one FR (CHECK_REQUIREMENTS), so
its findings land in the report beside our rules.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UserError
from harness.gotools import GoTool, ensure_tool, last_line
from harness.policy.objects import Manifest
from harness.policy.schema import KUBERNETES_VERSION

KUBE_SCORE = GoTool("kube-score", "github.com/zegl/kube-score/cmd/kube-score", "v1.20.0")
RUN_TIMEOUT_SECONDS = 120
# kube-score exits 1 when it has CRITICAL findings; the gate decides on them after waivers.
SCORED_EXIT_CODES = (0, 1)
CRITICAL_GRADE = 1
WARNING_GRADE = 5

# Every check kube-score v1.20.0 has (`kube-score list`), and the FR of SPEC.md it serves.
CHECK_REQUIREMENTS: dict[str, str] = {
    "container-image-tag": "FR-001",
    "container-image-pull-policy": "FR-001",
    "container-security-context-user-group-id": "FR-001",
    "container-security-context-privileged": "FR-001",
    "container-security-context-readonlyrootfilesystem": "FR-001",
    "container-seccomp-profile": "FR-001",
    "cronjob-has-deadline": "FR-001",
    "cronjob-restartpolicy": "FR-001",
    "deployment-pod-selector-labels-match-template-metadata-labels": "FR-001",
    "statefulset-pod-selector-labels-match-template-metadata-labels": "FR-001",
    "label-values": "FR-001",
    "stable-version": "FR-001",
    "pod-networkpolicy": "FR-002",
    "networkpolicy-targets-pod": "FR-002",
    "container-ports-check": "FR-002",
    "ingress-targets-service": "FR-003",
    "environment-variable-key-duplication": "FR-004",
    "deployment-strategy": "FR-005",
    "deployment-replicas": "FR-005",
    "deployment-has-poddisruptionbudget": "FR-005",
    "statefulset-has-poddisruptionbudget": "FR-005",
    "poddisruptionbudget-has-policy": "FR-005",
    "deployment-has-host-podantiaffinity": "FR-005",
    "statefulset-has-host-podantiaffinity": "FR-005",
    "deployment-targeted-by-hpa-does-not-have-replicas-configured": "FR-005",
    "horizontalpodautoscaler-has-target": "FR-005",
    "horizontalpodautoscaler-replicas": "FR-005",
    "pod-topology-spread-constraints": "FR-005",
    "pod-probes": "FR-006",
    "pod-probes-identical": "FR-006",
    "container-resources": "FR-007",
    "container-resource-requests-equal-limits": "FR-007",
    "container-cpu-requests-equal-limits": "FR-007",
    "container-memory-requests-equal-limits": "FR-007",
    "container-ephemeral-storage-request-and-limit": "FR-007",
    "container-ephemeral-storage-request-equals-limit": "FR-007",
    "service-targets-pod": "FR-009",
    "service-type": "FR-009",
    "statefulset-has-servicename": "FR-009",
}


@dataclass(frozen=True)
class ScoredCheck:
    """One kube-score check on one object: its grade and what it says."""

    check_id: str
    check_name: str
    subject: str  # Kind/name, namespace left out: conformance runs move objects into run namespaces
    grade: int
    skipped: bool
    comments: tuple[str, ...]

    @property
    def severity(self) -> str | None:
        """CRITICAL, WARNING or None (passed or skipped)."""
        if self.skipped:
            return None
        if self.grade <= CRITICAL_GRADE:
            return "CRITICAL"
        if self.grade <= WARNING_GRADE:
            return "WARNING"
        return None


def requirement_of(check_id: str) -> str:
    try:
        return CHECK_REQUIREMENTS[check_id]
    except KeyError:
        raise UserError(
            f"kube-score reports check {check_id!r}, which has no FR in the mapping",
            where="harness/policy/kubescore.py CHECK_REQUIREMENTS",
            fix=f"add {check_id!r} with the FR it concerns (new in kube-score {KUBE_SCORE.version}?)",
        ) from None


def _run(arguments: Sequence[str], *, what: str) -> subprocess.CompletedProcess[str]:
    binary = ensure_tool(KUBE_SCORE)
    try:
        return subprocess.run(
            [str(binary), *arguments],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UserError(
            f"kube-score {what} took over {RUN_TIMEOUT_SECONDS} s",
            where=str(binary),
            fix="rerun on a quieter host",
        ) from None
    except OSError as error:
        raise UserError(
            f"kube-score does not run: {error}",
            where=str(binary),
            fix=f"delete {binary.parent} so the next run rebuilds it",
        ) from None


def known_checks() -> dict[str, str]:
    """kube-score's own list of checks: id -> default|optional."""
    completed = _run(["list"], what="list")
    if completed.returncode != 0:
        raise UserError(
            f"`kube-score list` failed: {last_line(completed.stderr)}",
            fix=f"delete the cached kube-score {KUBE_SCORE.version} so the next run rebuilds it",
        )
    return {row[0]: row[-1] for row in csv.reader(io.StringIO(completed.stdout)) if row}


def score(objects: Sequence[Manifest]) -> list[ScoredCheck]:
    """Every check kube-score ran on every object (Secrets are left out: no check reads them)."""
    scored = [obj for obj in objects if obj.get("kind") != "Secret"]
    with tempfile.TemporaryDirectory(prefix="taskflow-kube-score-") as scratch:
        path = Path(scratch) / "manifests.yaml"
        path.write_text(yaml.safe_dump_all(scored, sort_keys=False), encoding="utf-8")
        completed = _run(
            ["score", "--output-format", "json", "--kubernetes-version", f"v{KUBERNETES_VERSION}", str(path)],
            what="score",
        )
    if completed.returncode not in SCORED_EXIT_CODES:
        raise UserError(
            f"kube-score failed (exit {completed.returncode}): {last_line(completed.stderr)}",
            fix="run `python -m harness.policy --kube-score` to see its input problem",
        )
    return parse_report(completed.stdout)


def parse_report(text: str) -> list[ScoredCheck]:
    try:
        report: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(
            f"kube-score printed no JSON report ({error})",
            fix=f"check the cached binary is kube-score {KUBE_SCORE.version}; delete it to rebuild",
        ) from None
    results: list[ScoredCheck] = []
    for scored_object in report or []:
        kind = scored_object["type_meta"].get("kind", "?")
        name = scored_object["object_meta"].get("name", "?")
        for test in scored_object.get("checks") or []:
            comments = tuple(
                " ".join(part for part in (comment.get("path"), comment.get("summary")) if part)
                for comment in test.get("comments") or []
            )
            results.append(
                ScoredCheck(
                    check_id=test["check"]["id"],
                    check_name=test["check"]["name"],
                    subject=f"{kind}/{name}",
                    grade=int(test["grade"]),
                    skipped=bool(test["skipped"]),
                    comments=comments,
                )
            )
    return results
