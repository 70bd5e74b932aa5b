"""The one output shape of every measuring activity: a list of checks, each a plain dict.

A check says which requirement it is evidence for, what was measured against which budget, and
whether it held. `fault=True` marks the checks that prove the fault itself happened; the harness
fails an experiment that has none of those passing ("fault not observed").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Check = dict[str, Any]


def check(
    criterion: str,
    name: str,
    *,
    ok: bool,
    metric: str,
    value: float | str | None,
    unit: str = "",
    budget: str = "",
    detail: str = "",
    samples: Sequence[float] = (),
    fault: bool = False,
) -> Check:
    return {
        "criterion": criterion,
        "check": name,
        "ok": bool(ok),
        "metric": metric,
        "value": value,
        "unit": unit,
        "budget": budget,
        "detail": detail,
        "samples": [round(float(sample), 4) for sample in samples],
        "fault": fault,
    }


def outcome(*checks: Check, **facts: Any) -> dict[str, Any]:
    """An activity's output: its checks plus whatever facts a reader of the journal wants."""
    return {"checks": list(checks), **facts}
