"""Figure 5: fan-out of the daily overdue scan and of a scheduled rule over invoices, at 10,000 and 20,000.

For each size, a fresh local stack gets a shop with three dunning levels and that many open invoices
(written straight into the table with BatchWriteItem, all 30 days past due), then:

- **overdue scan**: the schedule function runs the shop's daily scan (``regelwerk.dunning.scan``);
  its continuations on the actions queue run through the real actions handler until the scan is
  done. Counted: AWS calls (botocore hooks, as in figure 3), the wall time of each invocation, and
  the fan-out messages it queued (100 invoices each).
- **scheduled rule over invoices**: the schedule function runs a rule with ``over: invoices``
  (``regelwerk.selections``), continuations likewise.
- **per message**: a sample of the fan-out messages is then handled by the actions handler (each
  advances 100 invoices: read, evaluate, one transaction per invoice that moves a level); the
  median invocation of the sample stands for every message, because every message carries the
  same 100 invoices' worth of work.

Times are the handlers' own CPU time (``time.thread_time`` of the invoking thread): moto answers
from server threads, and moto's own costs grow with the table (it copies every table for each
TransactWriteItems, to roll back), which DynamoDB's do not. The wall time with moto is reported
beside it. The target is linearity: calls and CPU at 20,000 about twice those at 10,000 (ratio ~2),
and the longest single invocation the same at both sizes (ratio ~1), so nothing grows with the table.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import Result, median, table
from bench.calls import CallCounter

SIZES = (10_000, 20_000)
SAMPLE_MESSAGES = 2


def seed(n: int) -> None:
    from regelwerk.model.invoice import Invoice
    from regelwerk.model.shop import Shop
    from regelwerk.store.invoices import mark_open
    from regelwerk.store.rules import save_rule, save_template
    from regelwerk.store.shops import save_shop
    from regelwerk.store.tables import InvoiceItem

    shop = Shop.model_validate(
        {
            "id": "bench",
            "name": "Bench GmbH",
            "iban": "DE89370400440532013000",
            "owner": {"email": "owner@bench.example"},
            "dunning": {
                "levels": [
                    {"level": 1, "after_days": 3, "name": "payment_reminder"},
                    {"level": 2, "after_days": 14, "name": "first_dunning", "fee": "5.00"},
                    {"level": 3, "after_days": 28, "name": "final_notice", "fee": "10.00"},
                ]
            },
        }
    )
    save_shop(shop)
    save_template("bench", "dunning", "de", {"subject": "Mahnung {{ invoice.number }}", "text": "x"})
    save_rule(
        "bench",
        {
            "id": "dunning",
            "name": "dunning",
            "trigger": {"event": "invoice.overdue"},
            "actions": [{"type": "email", "template": "dunning", "to": "owner"}],
        },
    )
    save_rule(
        "bench",
        {
            "id": "open-invoices",
            "name": "every open invoice, on the 1st",
            "trigger": {"event": "schedule", "cron": "0 8 1 * *"},
            "over": "invoices",
            "when": {"all": [{"field": "invoice.status", "op": "eq", "value": "open"}]},
            "actions": [{"type": "email", "template": "dunning", "to": "owner"}],
        },
    )
    now = datetime.now(UTC)
    with InvoiceItem.batch_write() as batch:
        for i in range(n):
            invoice = Invoice.model_validate(
                {
                    "id": f"in_{i:06d}",
                    "number": f"RE-{i:06d}",
                    "currency": "EUR",
                    "amount": "119.00",
                    "issued_at": (now - timedelta(days=44)).isoformat(),
                    "due_at": (now - timedelta(days=30)).isoformat(),
                }
            )
            item = InvoiceItem("bench", invoice.id)
            mark_open(item, invoice)
            item.version = 1
            batch.save(item)


def drain_continuations(
    stack: Any, counter: CallCounter, kinds: set[str], times: list[tuple[float, float]]
) -> list[dict]:
    """Run the scan's continuations through the actions handler; return the fan-out messages left."""
    import boto3

    sqs = boto3.client("sqs")
    url = stack.resources.queues["ActionsQueue"]["url"]
    arn = stack.resources.queues["ActionsQueue"]["arn"]
    left: list[dict] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            return left
        for m in got:
            body = json.loads(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if body.get("fanout") not in kinds:
                left.append(body)
                continue
            record = {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "eu-central-1",
            }
            t0, c0 = time.perf_counter(), time.thread_time()
            stack.invoke("ActionsFunction", {"Records": [record]})
            times.append(((time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000))


def handle(stack: Any, counter: CallCounter, bodies: list[dict]) -> tuple[float, float, float]:
    """One actions-handler invocation per message; returns the median wall ms, CPU ms and AWS calls."""
    times, cpu, calls = [], [], []
    for body in bodies:
        record = {
            "messageId": "m",
            "receiptHandle": "r",
            "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": stack.resources.queues["ActionsQueue"]["arn"],
            "awsRegion": "eu-central-1",
        }
        counter.start("message")
        t0, c0 = time.perf_counter(), time.thread_time()
        answer = stack.invoke("ActionsFunction", {"Records": [record]})
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        calls.append(len(counter.stop()))
        if answer.get("batchItemFailures"):
            raise RuntimeError(f"fan-out message failed: {answer}")
    return median(times), median(cpu), median(calls)


def measure(stack: Any, counter: CallCounter, n: int) -> dict[str, Any]:
    stack.reset()
    seed(n)
    slot = datetime.now(UTC).replace(minute=0, second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    out: dict[str, Any] = {}
    for job, event, kinds in (
        ("overdue scan", {"shop_id": "bench", "job": "overdue_scan", "scheduled_time": slot}, {"overdue_scan"}),
        (
            "rule over invoices",
            {"shop_id": "bench", "rule_id": "open-invoices", "scheduled_time": slot},
            {"selection_scan"},
        ),
    ):
        counter.start(job)
        t0, c0 = time.perf_counter(), time.thread_time()
        stack.invoke("ScheduleFunction", event)
        invocations = [((time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000)]
        messages = drain_continuations(stack, counter, kinds, invocations)
        calls = counter.stop()
        wall_msg, cpu_msg, calls_msg = handle(stack, counter, messages[:SAMPLE_MESSAGES])
        by_op: dict[str, int] = {}
        for c in calls:
            by_op[c["op"]] = by_op.get(c["op"], 0) + 1
        cpu = [c for _, c in invocations]
        out[job] = {
            "invocations": len(invocations),
            "longest_cpu_ms": max(cpu),
            "longest_wall_ms": max(w for w, _ in invocations),
            "scan_cpu_ms": sum(cpu),
            "calls": len(calls),
            "calls_by_op": by_op,
            "messages": len(messages),
            "per_message_cpu_ms": cpu_msg,
            "per_message_wall_ms": wall_msg,
            "per_message_calls": calls_msg,
            "total_cpu_ms": sum(cpu) + cpu_msg * len(messages),
            "total_calls": len(calls) + calls_msg * len(messages),
            "longest_any_cpu_ms": max(max(cpu), cpu_msg),
        }
    return out


def run(quick: bool = False) -> list[Result]:
    counter = CallCounter()
    counter.install()
    from regelwerk_cli.localstack import LocalStack

    stack = LocalStack().start()
    try:
        figures = {n: measure(stack, counter, n) for n in SIZES}
    finally:
        stack.stop()
    small, large = figures[SIZES[0]], figures[SIZES[1]]
    rows = []
    results = []
    for job in small:
        a, b = small[job], large[job]
        for n, f in ((SIZES[0], a), (SIZES[1], b)):
            rows.append(
                [
                    f"{job}, {n:,}",
                    f["invocations"],
                    round(f["longest_cpu_ms"]),
                    f["calls"],
                    f["messages"],
                    round(f["per_message_cpu_ms"]),
                    round(f["per_message_wall_ms"]),
                    round(f["per_message_calls"]),
                    f"{f['total_calls']:,.0f}",
                    round(f["total_cpu_ms"] / 1000, 1),
                ]
            )
        cpu_ratio = b["total_cpu_ms"] / a["total_cpu_ms"]
        calls_ratio = b["total_calls"] / a["total_calls"]
        longest_ratio = b["longest_any_cpu_ms"] / a["longest_any_cpu_ms"]
        results.append(
            Result(
                5,
                f"fan-out: {job}, 20,000 vs 10,000 invoices (CPU in the handlers)",
                round(b["total_cpu_ms"] / 1000, 2),
                "s",
                baseline=round(a["total_cpu_ms"] / 1000, 2),
                baseline_name="the same at 10,000 invoices",
                ratio=cpu_ratio,
                target="linear (ratio ~2) and no invocation that grows with the table",
                met=1.7 <= cpu_ratio <= 2.3 and 1.8 <= calls_ratio <= 2.2 and longest_ratio < 1.3,
                detail={"10000": a, "20000": b, "calls_ratio": calls_ratio, "longest_invocation_ratio": longest_ratio},
            )
        )
    print("Figure 5: fan-out against moto (CPU: the handlers' own; wall: with moto's latency)")
    print(
        table(
            rows,
            [
                "job, invoices",
                "scan invocations",
                "longest scan CPU ms",
                "scan AWS calls",
                "messages",
                "CPU ms / message",
                "wall ms / message",
                "calls / message",
                "AWS calls in all",
                "CPU s in all",
            ],
        )
    )
    for r in results:
        d = r.detail
        print(
            f"  {r.name}: CPU ratio {r.ratio:.2f}, calls ratio {d['calls_ratio']:.2f}, "
            f"longest invocation ratio {d['longest_invocation_ratio']:.2f}"
        )
    return results


if __name__ == "__main__":
    import os
    import sys

    from bench import child_main

    child_main(run)
    sys.stdout.flush()
    # moto's in-memory tables of 20,000 invoices (and its copies of them) take the interpreter minutes
    # to tear down at exit; the results are written, so leave at once
    os._exit(0)
