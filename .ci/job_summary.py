"""Print the newest run's summary.json (under the folder given) as a Markdown table for
$GITHUB_STEP_SUMMARY; says so when the run wrote none."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(reports: Path) -> int:
    summaries = sorted(reports.glob("*/summary.json"), key=lambda path: path.stat().st_mtime)
    if not summaries:
        print(f"No summary.json under {reports}/: the run stopped before writing its report.")
        return 0
    summary = json.loads(summaries[-1].read_text(encoding="utf-8"))
    print(f"### Taskflow conformance on {summary.get('provider', '?')} ({summaries[-1].parent.name})\n")
    print("| criterion | verdict | reason |\n|---|---|---|")
    for criterion in summary.get("criteria", []):
        reason = str(criterion.get("reason", "")).replace("|", "\\|").replace("\n", " ")
        print(f"| {criterion.get('id')} {criterion.get('title', '')} | {criterion.get('verdict')} | {reason} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "reports")))
