"""Dead-lettered actions of one shop: listed from the run log's sparse dead-lettered index (with each one's
reason), and sent back to their queue from the dead-letter queues (``regelwerk dlq --redrive`` does the same).

A redrive cannot duplicate what already went out: every action keeps its id, and the delivery ledger skips an
action recorded as sent.
"""

from __future__ import annotations

import json
from typing import Any

from ...clients import client
from ...settings import settings
from ...store import paging
from ...store.tables import RunItem

QUEUES = ("mail", "sms", "pdf", "actions")


def dead_letters(shop_id: str, limit: int = 25, token: str | None = None) -> dict[str, Any]:
    """One page of the runs with a dead-lettered action, newest first, as one row per such action."""
    scope = "console:dead-lettered"
    results = RunItem.dead_lettered.query(
        shop_id, scan_index_forward=False, limit=limit, last_evaluated_key=paging.decode(shop_id, token, scope)
    )
    rows = []
    for run in results:
        deliveries = run.deliveries.as_dict() if hasattr(run.deliveries, "as_dict") else dict(run.deliveries or {})
        document = json.loads(run.document)
        for action_id, entry in sorted(deliveries.items()):
            if entry.get("state") == "dead_lettered":
                rows.append(
                    {
                        "run_id": run.run_id,
                        "action_id": action_id,
                        "rule": entry.get("rule"),
                        "type": entry.get("type"),
                        "at": entry.get("at") or run.dead_at,
                        "reason": entry.get("reason") or entry.get("error") or "",
                        "order_id": run.order_id,
                        "order_number": document.get("order_number"),
                    }
                )
    return {"dead_letters": rows, "next": paging.encode(shop_id, results.last_evaluated_key, scope)}


def _dlq_url(queue: str) -> str:
    s = settings()
    return {"mail": s.mail_dlq_url, "sms": s.sms_dlq_url, "pdf": s.pdf_dlq_url, "actions": s.actions_dlq_url}[queue]


def redrive(shop_id: str, action_id: str | None = None) -> int:
    """Send the shop's dead-lettered actions (or the one with ``action_id``) back to their queues; how many."""
    sqs = client("sqs")
    moved = 0
    for queue in QUEUES:
        dlq = _dlq_url(queue)
        if not dlq:
            continue
        seen: set[str] = set()
        others: list[str] = []
        while True:
            got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for m in fresh:
                seen.add(m["MessageId"])
                try:
                    body = json.loads(m["Body"])
                except ValueError:
                    body = {}
                if body.get("shop_id") != shop_id or (action_id and body.get("action_id") != action_id):
                    others.append(m["ReceiptHandle"])
                    continue
                sqs.send_message(QueueUrl=settings().queue_url(queue), MessageBody=m["Body"])
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
                moved += 1
        for handle in others:  # another shop's, or another action: visible again at once
            sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=handle, VisibilityTimeout=0)
    return moved
