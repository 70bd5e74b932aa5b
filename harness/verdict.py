"""The verdict model: from a run's evidence to one verdict per criterion (HTML, JUnit, JSON alike).

Rules:
- any failed check (measured, or a tagged test that errored, or recorded nothing) fails the row;
- a row passes only on passing *live* evidence; static manifest rules alone say `not proven live`;
- a row with essential checks (harness.criteria.ESSENTIAL_CHECKS) passes only when one of them did;
- a skipped row always carries its reasons; `--strict` turns skips into a failed run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.criteria import CRITERIA, ESSENTIAL_CHECKS, HEADLINES, HeadlineFigure
from harness.evidence import Evidence, Kind, LatencyFigures, Verdict

NOT_PROVEN_LIVE = "not proven live"


@dataclass(frozen=True)
class CriterionRow:
    criterion: str
    title: str
    verdict: Verdict
    summary: str
    checks: tuple[Evidence, ...]

    @property
    def live_checks(self) -> tuple[Evidence, ...]:
        return tuple(check for check in self.checks if check.kind is Kind.LIVE)

    @property
    def static_checks(self) -> tuple[Evidence, ...]:
        return tuple(check for check in self.checks if check.kind is Kind.STATIC)

    @property
    def static_only(self) -> bool:
        return bool(self.checks) and not self.live_checks

    @property
    def headline(self) -> str:
        return headline(self)

    @property
    def headline_figures(self) -> tuple[Figure, ...]:
        return headline_figures(self)


def _describe(check: Evidence) -> str:
    figure = f"{check.metric}={check.value}{check.unit}" if check.value is not None else check.metric
    reason = f" — {check.detail}" if check.detail else ""
    return f"{check.check}: {figure}{reason}"


def criterion_verdict(checks: Sequence[Evidence], *, essential: str = "") -> tuple[Verdict, str]:
    """The row's verdict and a one-line reason (see the module docstring for the rules); `essential`
    names the checks (a check-name fragment) without whose live pass the row cannot pass."""
    if not checks:
        return Verdict.SKIPPED, "skipped: no check of this criterion ran"
    failed = [check for check in checks if check.verdict is Verdict.FAIL]
    if failed:
        more = f" (and {len(failed) - 1} more failed checks)" if len(failed) > 1 else ""
        return Verdict.FAIL, f"{len(failed)} of {len(checks)} checks failed: {_describe(failed[0])}{more}"
    live_passed = [c for c in checks if c.verdict is Verdict.PASS and c.kind is Kind.LIVE]
    if essential and not any(essential in check.check for check in live_passed):
        unjudged = sorted({c.detail for c in checks if essential in c.check and c.verdict is Verdict.SKIPPED})
        why = "; ".join(unjudged) or "none ran"
        return Verdict.SKIPPED, f"skipped: its essential checks ('{essential}') did not pass live ({why})"
    static_passed = [c for c in checks if c.verdict is Verdict.PASS and c.kind is Kind.STATIC]
    skipped = [check for check in checks if check.verdict is Verdict.SKIPPED]
    skip_reasons = "; ".join(sorted({check.detail for check in skipped}))
    if live_passed:
        suffix = f", {len(skipped)} skipped ({skip_reasons})" if skipped else ""
        statics = f" + {len(static_passed)} static rules" if static_passed else ""
        return Verdict.PASS, f"{len(live_passed)} live checks passed{statics}{suffix}"
    if static_passed:
        why = f"; live: {skip_reasons}" if skipped else "; no live check ran"
        return Verdict.SKIPPED, f"skipped: {NOT_PROVEN_LIVE} ({len(static_passed)} static rules pass{why})"
    return Verdict.SKIPPED, f"skipped: {skip_reasons}"


def criterion_rows(evidence: Iterable[Evidence]) -> list[CriterionRow]:
    """One row per criterion of harness.criteria, in its order."""
    by_criterion: dict[str, list[Evidence]] = {criterion: [] for criterion in CRITERIA}
    for record in evidence:
        by_criterion[record.criterion].append(record)
    rows = []
    for criterion, checks in by_criterion.items():
        verdict, summary = criterion_verdict(checks, essential=ESSENTIAL_CHECKS.get(criterion, ""))
        rows.append(CriterionRow(criterion, CRITERIA[criterion], verdict, summary, tuple(checks)))
    return rows


def attention_first(rows: Sequence[CriterionRow]) -> list[CriterionRow]:
    """Skipped and static-only rows first, then failures, then passes (stable within each)."""
    order = {Verdict.SKIPPED: 0, Verdict.FAIL: 1, Verdict.PASS: 2}
    return sorted(rows, key=lambda row: (order[row.verdict], not row.static_only))


@dataclass(frozen=True)
class Figure:
    """One figure of a row's headline and the budget it was held to."""

    text: str
    budget: str


def headline_figures(row: CriterionRow) -> tuple[Figure, ...]:
    """The figures a reader wants beside the verdict: the failing check if one failed, else the row's
    figures of harness.criteria.HEADLINES, else its worst latency or first live measurement. A static
    rule's figure never stands in for a measurement: it shows (marked `static`) only when a static
    rule is what failed the row."""
    failed = [check for check in row.checks if check.verdict is Verdict.FAIL]
    failed_live = [check for check in failed if check.kind is Kind.LIVE]
    if failed_live:
        return (Figure(_figure(failed_live[0]), failed_live[0].budget),)
    if failed:
        return (Figure(f"static {_figure(failed[0])}", failed[0].budget),)
    measured = [c for c in row.live_checks if c.verdict is not Verdict.SKIPPED and c.value is not None]
    if not measured:
        return ()
    preferred = tuple(
        figure for wanted in HEADLINES.get(row.criterion, ()) if (figure := _preferred(wanted, measured))
    )
    if preferred:
        return preferred
    with_samples = [check for check in measured if check.samples]
    if with_samples:
        worst = max(with_samples, key=lambda check: LatencyFigures.of(check.samples).p99 or 0.0)
        return (Figure(f"worst {_figure(worst)} ({len(worst.samples)} samples)", worst.budget),)
    return (Figure(_figure(measured[0]), measured[0].budget),)


def headline(row: CriterionRow) -> str:
    return " · ".join(figure.text for figure in headline_figures(row)) or "-"


def _preferred(wanted: HeadlineFigure, measured: Sequence[Evidence]) -> Figure | None:
    matching = [check for check in measured if wanted.check in check.check]
    numeric = [check for check in matching if isinstance(check.value, int | float)]
    if not matching:
        return None
    chosen = matching[0]
    notes = []
    if wanted.pick != "first" and numeric:
        chosen = (max if wanted.pick == "highest" else min)(
            numeric, key=lambda check: float(check.value or 0)
        )
        if len(matching) > 1:
            notes.append(f"worst of {len(matching)}")
    if wanted.samples and chosen.samples:
        notes.append(f"{len(chosen.samples)} samples")
    note = f" ({', '.join(notes)})" if notes else ""
    if wanted.show == "detail" and chosen.detail:
        # The budget is the metric's (FR-001: problems 0), not the detail's: shown in the checks.
        return Figure(f"{wanted.label}: {chosen.detail}{note}", "")
    if wanted.show == "detail":
        return Figure(f"{wanted.label}: {_figure(chosen)}{note}", chosen.budget)
    unit = f" {chosen.unit}" if chosen.unit else ""
    return Figure(f"{wanted.label} {chosen.value}{unit}{note}", chosen.budget)


def _figure(check: Evidence) -> str:
    if check.value is None:
        return check.metric
    unit = f" {check.unit}" if check.unit else ""
    return f"{check.metric} {check.value}{unit}"


@dataclass(frozen=True)
class RunOutcome:
    failed: tuple[CriterionRow, ...]
    skipped: tuple[CriterionRow, ...]
    strict: bool
    nothing_verified: bool

    @property
    def ok(self) -> bool:
        return not self.failed and not self.nothing_verified and not (self.strict and self.skipped)

    def lines(self) -> list[str]:
        """The exit summary: skipped rows first (they hide the most), then failures."""
        shown = [f"SKIPPED {row.criterion}: {row.summary}" for row in self.skipped]
        shown += [f"FAIL    {row.criterion}: {row.summary}" for row in self.failed]
        if self.strict and self.skipped:
            shown.append(f"--strict: {len(self.skipped)} skipped criteria fail the run")
        if self.nothing_verified:
            shown.append("no requirement could be checked on this run (every criterion skipped)")
        return shown


def run_outcome(rows: Sequence[CriterionRow], *, strict: bool) -> RunOutcome:
    return RunOutcome(
        failed=tuple(row for row in rows if row.verdict is Verdict.FAIL),
        skipped=tuple(row for row in rows if row.verdict is Verdict.SKIPPED),
        strict=strict,
        nothing_verified=all(row.verdict is Verdict.SKIPPED for row in rows),
    )
