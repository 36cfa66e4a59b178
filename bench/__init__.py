"""Regelwerk's benchmarks (issue 7): measured figures, not pass/fail tests.

Every figure is measured together with its baseline in the same run, interleaved and
repeated, because these machines are noisy (2 shared cores): what is reported is the median
of the repeats and the ratio to the baseline measured beside it. ``python -m bench`` runs
each benchmark module in its own fresh interpreter, prints one table and writes
``bench/results.json``.
"""

from __future__ import annotations

import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results.json"


@dataclass
class Result:
    """One figure: its value, the baseline measured beside it, and their ratio (value / baseline)."""

    figure: int
    name: str
    value: float | int | None
    unit: str
    baseline: float | int | None = None
    baseline_name: str | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.value is not None and self.baseline:
            self.ratio = self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("value", "baseline", "ratio"):
            if isinstance(out[key], float):
                out[key] = round(out[key], 6)
        return out


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios a[i] / b[i]: two figures measured side by side in one round share
    that moment's load, so their ratio is steadier than the ratio of two medians on a busy machine."""
    if len(a) != len(b) or not a:
        return median(a) / median(b)
    return median(x / y for x, y in zip(a, b, strict=True))


def spread(values: list[float]) -> float:
    """Relative spread of the repeats: (max - min) / median, to show how noisy a figure was."""
    m = median(values)
    return (max(values) - min(values)) / m if m else 0.0


def interleaved(
    candidates: dict[str, Callable[[], float]],
    rounds: int,
    warmup: int = 1,
    every: dict[str, int] | None = None,
) -> dict[str, list[float]]:
    """Call every candidate once per round, rotating the order each round; return each one's samples.

    A candidate returns the figure it measured (seconds, usually). The rotation keeps any one
    candidate from always running right after a slow neighbour or at the start of a round.
    ``every[name] = k`` runs that candidate only in every k-th round (for figures of less interest).
    """
    names = list(candidates)
    every = every or {}
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            if r % every.get(name, 1):
                continue
            gc.collect()
            samples[name].append(candidates[name]())
    return samples


def calibrate(run: Callable[[int], float], target_s: float, start: int = 1, cap: int = 10_000_000) -> int:
    """How many iterations make one sample last about ``target_s`` seconds."""
    n = start
    while True:
        took = run(n)
        if took >= target_s / 4 or n >= cap:
            return max(1, min(cap, math.ceil(n * target_s / max(took, 1e-9))))
        n *= 4


def now() -> float:
    return time.perf_counter()


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.1f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        if abs(value) >= 0.01:
            return f"{value:.3f}"
        return f"{value:.2g}"
    return str(value)


def table(rows: list[list[Any]], headers: list[str]) -> str:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [all(_numeric(row[i]) for row in rows) if rows else False for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append(
            "  ".join(
                (c.rjust(w) if num else c.ljust(w)) for c, w, num in zip(row, widths, numeric, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def _numeric(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def results_table(results: list[Result]) -> str:
    rows = [
        [r.figure, r.name, r.value, r.unit, r.baseline, r.baseline_name or "", r.ratio, r.target or "", r.met]
        for r in results
    ]
    return table(rows, ["#", "figure", "value", "unit", "baseline", "baseline is", "ratio", "target", "met"])


def write_partial(results: list[Result], path: str | None) -> None:
    """A benchmark module run as a child writes its results here for ``python -m bench`` to merge."""
    if path:
        Path(path).write_text(json.dumps([r.as_dict() for r in results], indent=1))


def child_main(run: Callable[[bool], list[Result]]) -> None:
    """Entry point of ``python -m bench.<module> [--quick] [--out FILE]``."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, figures are rough)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    results = run(args.quick)
    print()
    print(results_table(results))
    write_partial(results, args.out)
    sys.stdout.flush()
