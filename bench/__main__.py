"""``python -m bench``: every benchmark in its own fresh interpreter, one table, ``bench/results.json``.

python -m bench                      # all figures (about 3-4 minutes on 2 cores)
python -m bench --quick              # fewer repeats: a smoke run, the figures are rough
python -m bench --only rules,pdf     # some of: rules, coldstart, calls, pdf, fanout, cost
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import RESULTS, ROOT, Result, results_table

ORDER = ["rules", "pdf", "coldstart", "calls", "fanout"]  # cost is computed from calls


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (rough figures, for a smoke run)")
    parser.add_argument("--only", help="comma-separated: rules, coldstart, calls, pdf, fanout, cost")
    parser.add_argument("--out", default=str(RESULTS), help=f"where to write the results (default {RESULTS})")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else {*ORDER, "cost"}
    unknown = wanted - {*ORDER, "cost"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    modules = [m for m in ORDER if m in wanted or (m == "calls" and "cost" in wanted)]

    run_info = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "quick": args.quick,
    }
    results: list[dict] = []
    failed: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="regelwerk-bench-") as tmp:
        for name in modules:
            out = Path(tmp) / f"{name}.json"
            print(f"== {name}", flush=True)
            t0 = time.monotonic()
            cmd = [sys.executable, "-m", f"bench.{name}", "--out", str(out)] + (["--quick"] if args.quick else [])
            code = subprocess.run(cmd, cwd=ROOT, check=False).returncode
            print(f"== {name}: {time.monotonic() - t0:.0f} s", flush=True)
            if code != 0 or not out.exists():
                failed.append(name)
                continue
            got = json.loads(out.read_text())
            if name != "calls" or "calls" in wanted:
                results += got
            if name == "calls" and "cost" in wanted:
                from bench.cost import compute

                results += [r.as_dict() for r in compute(got)]
    for r in results:
        r.setdefault("detail", {})["run"] = run_info
    results.sort(key=lambda r: r["figure"])
    Path(args.out).write_text(json.dumps(results, indent=1, default=str) + "\n")

    print()
    print(
        f"Regelwerk benchmarks, {run_info['date']}, Python {run_info['python']}, {run_info['cpus']} CPUs"
        + (" (quick: rough figures)" if args.quick else "")
    )
    print(results_table([Result(**{k: v for k, v in r.items()}) for r in results]))
    print(
        f"\nwritten: {os.path.relpath(args.out, ROOT)} ({len(results)} figures) in {time.monotonic() - started:.0f} s"
    )
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
