"""The committed list of kube-score findings we accept, each with its reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UserError
from harness.policy.kubescore import CHECK_REQUIREMENTS
from harness.render import MANIFESTS_DIR

WAIVERS_FILE = MANIFESTS_DIR / "kube-score-waivers.yaml"
SUBJECT = re.compile(r"^[A-Za-z]+/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
FIELDS = {"check", "objects", "reason"}


@dataclass(frozen=True)
class Waiver:
    check_id: str
    subjects: tuple[str, ...]  # Kind/name
    reason: str

    def covers(self, check_id: str, subject: str) -> bool:
        return check_id == self.check_id and subject in self.subjects


def load_waivers(path: Path = WAIVERS_FILE) -> tuple[Waiver, ...]:
    """Parse and validate the waiver file; any problem is one line naming the entry and the fix."""
    if not path.is_file():
        raise UserError(
            "the kube-score waiver file is missing",
            where=str(path),
            fix="restore it from git (an empty `waivers: []` means no finding is accepted)",
        )
    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UserError(
            f"waiver file does not parse: {error.problem}", where=where, fix="correct the YAML at that line"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("waivers"), list):
        raise UserError(
            "waiver file has no `waivers:` list",
            where=str(path),
            fix="write `waivers:` followed by entries with check, objects and reason",
        )
    return tuple(
        _waiver(entry, f"{path} waiver {index + 1}") for index, entry in enumerate(document["waivers"])
    )


def _waiver(entry: Any, where: str) -> Waiver:
    if not isinstance(entry, Mapping) or set(entry) != FIELDS:
        raise UserError(
            f"entry has fields {sorted(entry) if isinstance(entry, Mapping) else type(entry).__name__}, "
            f"not exactly {sorted(FIELDS)}",
            where=where,
            fix="give each waiver `check`, `objects` (a list of Kind/name) and `reason`",
        )
    check_id = entry["check"]
    if check_id not in CHECK_REQUIREMENTS:
        raise UserError(
            f"waiver names unknown kube-score check {check_id!r}",
            where=where,
            fix="use a check id from `kube-score list` (CHECK_REQUIREMENTS in harness/policy/kubescore.py)",
        )
    subjects = entry["objects"]
    if (
        not isinstance(subjects, list)
        or not subjects
        or not all(isinstance(subject, str) and SUBJECT.match(subject) for subject in subjects)
    ):
        raise UserError(
            f"waiver for {check_id} must list the objects it accepts as Kind/name, got {subjects!r}",
            where=where,
            fix="list each object, e.g. `objects: [Deployment/backend]` (no blanket waivers)",
        )
    reason = entry["reason"]
    if not isinstance(reason, str) or len(reason.split()) < 5:
        raise UserError(
            f"waiver for {check_id} has no real reason",
            where=where,
            fix="say in a sentence why the finding is right to accept here",
        )
    return Waiver(check_id, tuple(subjects), " ".join(reason.split()))
