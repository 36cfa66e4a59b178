"""Figure 6: the AWS list price of one million order events, from the calls and durations measured in figure 3.

Per event: one API Gateway REST request; one order-import invocation; the DynamoDB read and write
request units of its calls (item sizes taken from the requests and answers, transactions at twice
the units, as on-demand bills them); its SQS requests (one per 64 KB of payload); then the delivery
of the five actions: the mail, SMS and PDF invocations with their own DynamoDB and SQS calls, the
event source mappings' ReceiveMessage and DeleteMessageBatch (modelled as one each per invocation,
i.e. no batching, as at low traffic), and the e-mails sent through SES.

Lambda duration: the warm durations measured against moto on one full core. Lambda gives a function
CPU in proportion to its memory (one vCPU at 1,769 MB), so the CPU part is scaled by 1769 / MB and
the rest (waiting for moto) kept as is: ``ms = cpu * 1769 / MB + (wall - cpu)``. The unscaled
wall-clock figure (what the brief asked for: an upper bound at full speed, moto's latency included)
is in the detail. order-import, mail and SMS run at the memory of the row; the PDF function keeps
the 512 MB that template.yaml gives it.

Not priced (no list price given in the brief, or not per event): S3 PUT/GET of the PDF, SNS SMS
(priced per country, cents per message: it would dominate wherever an SMS action fires), CloudWatch
Logs ingestion, data transfer, the KMS/SSE defaults, and free tiers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench import Result, table

# List prices used (eu-central-1, USD). Read 2026-11-24 from the issue-7 brief, which quotes AWS's
# public price pages; not re-read from aws.amazon.com here (no web access from this workplace).
# DynamoDB: AWS halved on-demand throughput prices from 1 November 2024; the figures below are the
# brief's pre-2024 Frankfurt prices halved accordingly (0.7625 and 0.1525 USD per million units).
LAMBDA_ARM_GB_S = 0.0000133334  # Lambda arm64, per GB-second (first tier)
LAMBDA_REQUEST = 0.20 / 1e6  # Lambda, per request
DDB_WRU = 0.7625 / 1e6  # DynamoDB on-demand, per write request unit (after the 2024-11 price cut)
DDB_RRU = 0.1525 / 1e6  # DynamoDB on-demand, per read request unit (after the 2024-11 price cut)
SQS_REQUEST = 0.40 / 1e6  # SQS standard, per request (each 64 KB chunk of payload is one request)
SES_EMAIL = 0.10 / 1000  # SES, per e-mail sent (attachment data is priced extra per GB: not included)
APIGW_REST_REQUEST = 3.50 / 1e6  # API Gateway REST API, per request (first 333 million a month)
PRICES_READ = "2026-11-24 (from the issue-7 brief)"

FULL_CPU_MB = 1769  # Lambda: one full vCPU at 1,769 MB
PDF_MB = 512  # template.yaml: PdfFunction MemorySize
EVENTS = 1_000_000


def billed_ms(wall_ms: float, cpu_ms: float, memory_mb: int, scale: bool = True) -> int:
    if not scale or memory_mb >= FULL_CPU_MB:
        return math.ceil(wall_ms)
    return math.ceil(cpu_ms * FULL_CPU_MB / memory_mb + max(0.0, wall_ms - cpu_ms))


def lambda_cost(ms: int, memory_mb: int) -> float:
    return ms / 1000 * memory_mb / 1024 * LAMBDA_ARM_GB_S


def breakdown(inp: dict[str, Any], memory_mb: int, scale: bool = True) -> list[dict[str, Any]]:
    """Per-event quantities and dollars for one million events."""
    ingest, delivery, handlers = inp["ingest"], inp["delivery"], inp["handlers"]
    lines: list[dict[str, Any]] = []

    def add(item: str, quantity: float, unit_price: float) -> None:
        lines.append({"item": item, "per_event": quantity, "usd_per_million": quantity * unit_price * EVENTS})

    add("API Gateway REST request", 1, APIGW_REST_REQUEST)
    add("Lambda requests: order-import", 1, LAMBDA_REQUEST)
    ms = billed_ms(ingest["wall_ms"], ingest["cpu_ms"], memory_mb, scale)
    add(f"Lambda GB-s: order-import ({memory_mb} MB; quantity: billed ms)", ms, lambda_cost(1, memory_mb))
    add("DynamoDB read units: order-import", ingest["rru_median"], DDB_RRU)
    add("DynamoDB write units: order-import", ingest["wru_median"], DDB_WRU)
    add("SQS requests: order-import (SendMessageBatch)", ingest["sqs_billed_requests"], SQS_REQUEST)
    for logical, h in sorted(handlers.items()):
        name = logical.removesuffix("Function").lower()
        mb = PDF_MB if logical == "PdfFunction" else memory_mb
        inv = h["invocations_per_event"]
        d = delivery.get(logical, {})
        add(f"Lambda requests: {name}", inv, LAMBDA_REQUEST)
        ms = billed_ms(h["wall_ms"], h["cpu_ms"], mb, scale)
        add(f"Lambda GB-s: {name} ({mb} MB; quantity: billed ms)", inv * ms, lambda_cost(1, mb))
        add(f"DynamoDB read units: {name}", d.get("rru", 0), DDB_RRU)
        add(f"DynamoDB write units: {name}", d.get("wru", 0), DDB_WRU)
        add(
            f"SQS requests: {name} (own sends + event source Receive and DeleteBatch)",
            d.get("sqs_billed_requests", 0) + 2 * inv,
            SQS_REQUEST,
        )
    emails = sum(d.get("ses_emails", 0) for d in delivery.values())
    add("SES e-mails", emails, SES_EMAIL)
    return lines


def compute(calls_results: list[dict[str, Any]]) -> list[Result]:
    source = next(r for r in calls_results if r["name"].startswith("aws calls: order-import warm duration"))
    inp = source["detail"]["cost_input"]
    apigw = APIGW_REST_REQUEST * EVENTS
    results = []
    tables = {}
    for mb in (128, 256):
        lines = breakdown(inp, mb)
        unscaled = breakdown(inp, mb, scale=False)
        total = sum(x["usd_per_million"] for x in lines)
        total_unscaled = sum(x["usd_per_million"] for x in unscaled)
        tables[mb] = lines
        delivery = inp["delivery"]
        results.append(
            Result(
                6,
                f"cost: 1M order events, Lambda arm64 {mb} MB",
                total,
                "USD per 1M events",
                apigw,
                "API Gateway REST requests alone, USD",
                total / apigw,
                "information",
                None,
                {
                    "breakdown": [x | {"usd_per_million": round(x["usd_per_million"], 4)} for x in lines],
                    "total_unscaled_wall_clock_usd": round(total_unscaled, 4),
                    "duration_model": "ms = cpu * 1769 / MB + (wall - cpu); PdfFunction at 512 MB",
                    "not_priced_per_event": {
                        "s3_puts": sum(d.get("s3_puts", 0) for d in delivery.values()),
                        "sns_sms": sum(d.get("sns_sms", 0) for d in delivery.values()),
                        "cloudwatch_logs": "not measured",
                    },
                    "prices_read": PRICES_READ,
                    "prices": {
                        "lambda_arm64_gb_s": LAMBDA_ARM_GB_S,
                        "lambda_request": LAMBDA_REQUEST,
                        "dynamodb_wru": DDB_WRU,
                        "dynamodb_rru": DDB_RRU,
                        "sqs_request": SQS_REQUEST,
                        "ses_email": SES_EMAIL,
                        "apigw_rest_request": APIGW_REST_REQUEST,
                    },
                },
            )
        )
    print()
    print("Figure 6: list price of 1,000,000 order events (eu-central-1, prices of", PRICES_READ + ")")
    rows = []
    for a, b in zip(tables[128], tables[256], strict=True):
        rows.append(
            [
                a["item"].replace("128 MB; quantity: billed ms", "quantity: billed ms @128 / @256"),
                a["per_event"] if a["item"] == b["item"] else f"{a['per_event']} / {b['per_event']}",
                a["usd_per_million"],
                b["usd_per_million"],
            ]
        )
    rows.append(["total", "", results[0].value, results[1].value])
    print(table(rows, ["item (per event)", "quantity", "USD @128 MB", "USD @256 MB"]))
    print(
        "  Lambda ms scaled for the memory's CPU share (cpu x 1769/MB + wait); unscaled wall clock:"
        f" ${results[0].detail['total_unscaled_wall_clock_usd']:.2f}"
        f" / ${results[1].detail['total_unscaled_wall_clock_usd']:.2f}."
        " Not priced: S3 PUT/GET, SNS SMS (per country), logs."
    )
    return results


def run(quick: bool = False) -> list[Result]:
    from bench import calls

    return compute([r.as_dict() for r in calls.run(quick)])


def from_file(path: Path) -> list[Result]:
    return compute(json.loads(path.read_text()))


if __name__ == "__main__":
    from bench import child_main

    child_main(run)
