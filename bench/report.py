"""``python -m bench.report``: bench/results.json as a Markdown table (for docs/performance.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench import RESULTS, fmt


def markdown(results: list[dict]) -> str:
    lines = [
        "| # | figure | value | unit | baseline | baseline is | ratio | target | met |",
        "|---|---|--:|---|--:|---|--:|---|---|",
    ]
    for r in results:
        met = {True: "yes", False: "**no**", None: "–"}[r.get("met")]
        cells = [
            str(r["figure"]),
            r["name"],
            fmt(r["value"]),
            r["unit"],
            fmt(r["baseline"]),
            r.get("baseline_name") or "",
            fmt(r["ratio"]),
            r.get("target") or "",
            met,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    run = (results[0].get("detail") or {}).get("run", {}) if results else {}
    if run:
        lines.append("")
        lines.append(
            f"Run {run.get('date')}, Python {run.get('python')}, {run.get('cpus')} CPUs"
            + (" (quick)" if run.get("quick") else "")
            + "."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print(markdown(json.loads(path.read_text())))
