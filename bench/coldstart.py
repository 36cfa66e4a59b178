"""Figure 2: cold start, the import-and-init time of each function's module against ``import boto3`` alone.

Each sample is a fresh interpreter (``.venv/bin/python``) that is set up as Lambda sets up a
container: the function's environment variables resolved from template.yaml (as
``regelwerk_cli.cfn.functions`` resolves them), the function's code directory first on
``sys.path`` (Lambda's /var/task) and the layer's directory after it (Lambda's /opt/python).
Inside that interpreter, ``time.perf_counter`` is read around ``importlib.import_module("app")``,
which runs the module's top level (imports, resolver, logger, metrics, batch processor): the
import-and-init phase of a cold start. The baseline is the same interpreter doing ``import boto3``
instead. Targets and the function modules are run interleaved, the median of the samples is
reported, and the child also reports which heavy modules ended up in ``sys.modules``.

Interpreter start-up itself (the same for all) is excluded. The Lambda runtime imports some of
the standard library before it loads the handler, so a little of what is measured here would be
paid by the runtime on AWS, for the baseline and the functions alike. Byte code caches (.pyc)
exist for both, as they do for boto3 in the managed runtime.

One extra ``-X importtime`` run per function attributes the time to packages (not timed against
anything: the flag itself slows imports down).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import ROOT, Result, interleaved, median, spread, table

HEAVY = [
    "boto3",
    "pydantic",
    "pynamodb",
    "aws_lambda_powertools",
    "jinja2",
    "babel.numbers",
    "babel.dates",
    "fpdf",
    "PIL",
    "fontTools",
    "phonenumbers",
    "aws_xray_sdk",
    "lxml",
    "cryptography",
]
# optional imports that fontTools / fpdf2 take when installed: present in the dev venv (moto, cfn-lint
# bring them), absent from the Lambda package, so they inflate the PDF function's figure here
DEV_ONLY = {"lxml", "cryptography"}
# what each function may load; anything else heavy it loads is flagged as not used by it
USES = {
    "OrderImportFunction": {"boto3", "pydantic", "pynamodb", "aws_lambda_powertools"},
    "InvoiceStatusFunction": {"boto3", "pydantic", "pynamodb", "aws_lambda_powertools"},
    "ScheduleFunction": {"boto3", "pydantic", "pynamodb", "aws_lambda_powertools"},
    "MailFunction": {
        "boto3",
        "pydantic",
        "pynamodb",
        "aws_lambda_powertools",
        "jinja2",
        "babel.numbers",
        "babel.dates",
    },
    "SmsFunction": {
        "boto3",
        "pydantic",
        "pynamodb",
        "aws_lambda_powertools",
        "jinja2",
        "babel.numbers",
        "babel.dates",
        "phonenumbers",
    },
    "AdminFunction": {
        "boto3",
        "pydantic",
        "pynamodb",
        "aws_lambda_powertools",
        "jinja2",
        "babel.numbers",
        "babel.dates",
    },
    "PdfFunction": {
        "boto3",
        "pydantic",
        "pynamodb",
        "aws_lambda_powertools",
        "jinja2",
        "babel.numbers",
        "babel.dates",
        "fpdf",
        "PIL",
        "fontTools",
    },
}
TARGET = 1.3  # order-import and invoice-status within 1.3x of bare boto3
TARGETED = ("OrderImportFunction", "InvoiceStatusFunction")

CHILD = r"""
import importlib, json, os, sys, time
code_dir, layer, target = sys.argv[1], sys.argv[2].split(os.pathsep), sys.argv[3]
if target not in ("boto3", "deps"):
    sys.path[:0] = [code_dir, *layer]
before = set(sys.modules)
sys.stderr.write("--- regelwerk-bench: the timed import starts ---\n")
sys.stderr.flush()
t0 = time.perf_counter()
if target == "boto3":
    import boto3
elif target == "deps":
    import boto3, pydantic, pynamodb.models
    import aws_lambda_powertools.event_handler, aws_lambda_powertools.logging, aws_lambda_powertools.metrics
else:
    importlib.import_module("app")
t1 = time.perf_counter()
heavy = json.loads(sys.argv[4])
print(json.dumps({
    "ms": (t1 - t0) * 1000,
    "modules": len(set(sys.modules) - before),
    "heavy": [m for m in heavy if m in sys.modules],
}))
"""


def lambda_env(fn: Any) -> dict[str, str]:
    """A clean environment like a Lambda container's, plus the function's own variables."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": fn.logical_id if fn else "boto3",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(fn.code_dir) if fn else "/var/task",
        "_HANDLER": fn.handler if fn else "app.lambda_handler",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if fn:
        env.update(fn.environment)
    return env


def template_functions() -> dict[str, Any]:
    """The template's functions with their environment resolved, without creating anything."""
    from regelwerk_cli import cfn

    template = cfn.load_template()
    res = cfn.physical_names(template, "regelwerk-bench")
    for logical, spec in template["Resources"].items():
        if spec["Type"] == "AWS::SQS::Queue":
            name = f"regelwerk-bench-{logical}"
            res.queues[logical] = {
                "url": f"https://sqs.eu-central-1.amazonaws.com/{cfn.ACCOUNT}/{name}",
                "arn": f"arn:aws:sqs:eu-central-1:{cfn.ACCOUNT}:{name}",
                "name": name,
            }
    return cfn.functions(template, res, "eu-central-1")


def sample(fn: Any, target: str, layer: str | None = None) -> dict[str, Any]:
    code_dir = str(fn.code_dir) if fn else str(ROOT)
    layer = layer or str(ROOT / "layers" / "core")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, code_dir, layer, target, json.dumps(HEAVY)],
        env=lambda_env(fn),
        cwd=code_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{target} failed to import:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def importtime(fn: Any) -> dict[str, Any]:
    """One ``-X importtime`` run: self time per top-level package, and the slowest single modules."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CHILD, str(fn.code_dir), str(ROOT / "layers" / "core"), "app", "[]"],
        env=lambda_env(fn),
        cwd=str(fn.code_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    by_package: dict[str, float] = {}
    modules: list[tuple[float, float, str]] = []
    lines = out.stderr.splitlines()
    marker = next((i for i, line in enumerate(lines) if "the timed import starts" in line), -1)
    for line in lines[marker + 1 :]:  # what the interpreter imported at start-up is not the function's
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line.replace("import time:", "").split("|")
        self_us, cumulative, name = float(parts[0]), float(parts[1]), parts[2].strip()
        top = name.split(".")[0]
        by_package[top] = by_package.get(top, 0.0) + self_us / 1000
        modules.append((cumulative / 1000, self_us / 1000, name))
    total = sum(by_package.values())
    packages = sorted(by_package.items(), key=lambda kv: -kv[1])[:12]
    slow = sorted(modules, key=lambda m: -m[1])[:10]
    return {
        "total_ms_under_importtime": round(total, 1),
        "packages_ms": {k: round(v, 1) for k, v in packages},
        "slowest_modules_self_ms": {name: round(s, 1) for _c, s, name in slow},
    }


def layer_without_bytecode(tmp: str) -> str | None:
    """The layer's requirements installed as ``sam build`` leaves them: no .pyc files (Lambda's /opt is read-only)."""
    target = Path(tmp) / "layer"
    got = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            "-r",
            str(ROOT / "layers" / "core" / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if got.returncode != 0:
        print("  (layer without bytecode not measured: pip failed)", got.stderr.strip()[-300:])
        return None
    return os.pathsep.join([str(target), str(ROOT / "layers" / "core")])


def run(quick: bool = False) -> list[Result]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="regelwerk-bench-layer-") as tmp:
        return _run(quick, layer_without_bytecode(tmp))


def _run(quick: bool, bare_layer: str | None) -> list[Result]:
    samples_n = 5 if quick else 15
    functions = {k: f for k, f in template_functions().items() if (Path(f.code_dir) / "app.py").exists()}
    missing = sorted(set(template_functions()) - set(functions))
    candidates: dict[str, Any] = {
        "boto3": lambda: sample(None, "boto3"),
        "deps": lambda: sample(None, "deps"),
    }
    for logical, fn in functions.items():
        candidates[logical] = lambda fn=fn: sample(fn, "app")
    if bare_layer and "OrderImportFunction" in functions:
        fn = functions["OrderImportFunction"]
        candidates["nopyc"] = lambda fn=fn: sample(fn, "app", bare_layer)
    info: dict[str, dict[str, Any]] = {}

    def timed(name: str) -> Any:
        def go() -> float:
            got = candidates[name]()
            info[name] = got
            return got["ms"]

        return go

    # the targets and their baseline in every round; the other functions in every third round
    every = {name: 3 for name in candidates if name not in ("boto3", "deps", *TARGETED)}
    samples = interleaved({name: timed(name) for name in candidates}, samples_n, warmup=1, every=every)
    base = median(samples["boto3"])
    results: list[Result] = []
    deps = median(samples["deps"])
    rows = [
        ["import boto3 (baseline)", base, 1.0, round(spread(samples["boto3"]), 2), info["boto3"]["modules"], ""],
        [
            "libraries only (reference)",
            deps,
            deps / base,
            round(spread(samples["deps"]), 2),
            info["deps"]["modules"],
            "boto3, pydantic, pynamodb, powertools resolver+logger+metrics; no regelwerk",
        ],
    ]
    for logical in functions:
        ms = median(samples[logical])
        heavy = info[logical]["heavy"]
        uses = USES.get(logical)
        unused = [m for m in heavy if uses is not None and m not in uses and m not in DEV_ONLY]
        breakdown = importtime(functions[logical])
        detail = {
            "samples": len(samples[logical]),
            "spread": round(spread(samples[logical]), 3),
            "samples_ms": [round(x, 1) for x in samples[logical]],
            "baseline_samples_ms": [round(x, 1) for x in samples["boto3"]],
            "modules_loaded": info[logical]["modules"],
            "libraries_only_ms": round(deps, 1),
            "heavy_modules_loaded": heavy,
            "heavy_modules_not_used_by_this_function": unused,
            "importtime": breakdown,
        }
        targeted = logical in TARGETED
        ratio = ms / base  # ratio of the medians (samples are seconds apart: pairing them would not cancel load)
        results.append(
            Result(
                2,
                f"cold start: {logical} import-and-init",
                ms,
                "ms",
                base,
                "import boto3 ms",
                ratio,
                f"<= {TARGET}x boto3" if targeted else "information",
                (ratio <= TARGET) if targeted else None,
                detail,
            )
        )
        rows.append(
            [
                logical,
                ms,
                ratio,
                round(spread(samples[logical]), 2),
                info[logical]["modules"],
                ", ".join(
                    h + ("(!)" if h in unused else "(dev venv only)" if h in DEV_ONLY else "")
                    for h in heavy
                    if h != "boto3"
                ),
            ]
        )
    if "nopyc" in samples:
        ms = median(samples["nopyc"])
        ratio = ms / base
        results.append(
            Result(
                2,
                "cold start: OrderImportFunction, layer without .pyc (as sam build ships it)",
                ms,
                "ms",
                base,
                "import boto3 ms",
                ratio,
                "information",
                None,
                {
                    "samples": len(samples["nopyc"]),
                    "spread": round(spread(samples["nopyc"]), 3),
                    "note": "layers/core/requirements.txt installed with pip --no-compile, first on sys.path, and"
                    " PYTHONDONTWRITEBYTECODE=1: every module of the layer (botocore included, which shadows the"
                    " runtime's) is compiled from source, as on Lambda where /opt is read-only and .aws-sam/build"
                    " has no .pyc files. The baseline keeps its bytecode.",
                },
            )
        )
        rows.append(["OrderImportFunction, layer without .pyc", ms, ratio, round(spread(samples["nopyc"]), 2), "", ""])
    print()
    print(
        f"Figure 2: cold start, import-and-init in a fresh interpreter (median of {samples_n} interleaved samples"
        f" for boto3, order-import and invoice-status; {len(samples['ScheduleFunction'])} for the others)"
    )
    print(table(rows, ["module", "ms", "x boto3", "spread", "modules", "heavy modules loaded ((!) = not used by it)"]))
    if missing:
        print(f"  not measured (no code in the repository yet): {', '.join(missing)}")
    for r in results:
        if r.detail.get("importtime"):
            b = r.detail["importtime"]
            top = ", ".join(f"{k} {v:.0f}" for k, v in list(b["packages_ms"].items())[:8])
            print(f"  {r.name.split(': ')[1].split(' ')[0]} -X importtime self ms by package: {top}")
    return results


if __name__ == "__main__":
    from bench import child_main

    child_main(run)
