"""Action messages: what the engine hands to the mail, SMS and PDF queues.

A message carries everything its handler needs (the action, the context snapshot, what
follows in sequential mode), so a handler reads nothing to do its work. The action id
is stable across retries: handlers deduplicate on it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3

from .settings import settings

MAX_BATCH = 10
_sqs = None


def sqs():
    global _sqs
    if _sqs is None:
        _sqs = boto3.client("sqs", region_name=settings().aws_region)
    return _sqs


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


def message(
    *,
    shop_id: str,
    run_id: str,
    event_type: str,
    action_id: str,
    rule_id: str,
    rule_version: int,
    action: dict[str, Any],
    context: dict[str, Any],
    then: list[dict[str, Any]] | None = None,
    outputs: dict[str, Any] | None = None,
    depth: int = 0,
) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "run_id": run_id,
        "event_type": event_type,
        "action_id": action_id,
        "rule_id": rule_id,
        "rule_version": rule_version,
        "action": action,
        "context": context,
        "then": then or [],
        "outputs": outputs or {},
        "depth": depth,
        "planned_at": datetime.now(UTC).isoformat(),  # delays count from here, whatever the retries
    }


def _entry(entry_id: str, body: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": entry_id, "MessageBody": dumps(body)}
    seconds = body.get("delay_seconds")  # a throttled message's backoff
    delay = (body.get("action") or {}).get("delay")
    if delay:  # the action's own delay, when SQS can hold it (longer ones go through delays.schedule)
        from .rule import parse_duration

        seconds = int(parse_duration(delay).total_seconds())
    if seconds:
        entry["DelaySeconds"] = min(int(seconds), 900)
    return entry


def send(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send (queue name, message) pairs with SendMessageBatch, ten a call, retrying entries that failed once.

    Messages delayed longer than 15 minutes become one-time schedules instead (``delays``).

    Raises if an entry still fails: the caller's retry re-sends all of them, and the handlers'
    deduplication on the action id keeps that from sending anything twice.
    """
    by_queue: dict[str, list[dict[str, Any]]] = {}
    for queue, body in messages:
        if (body.get("action") or {}).get("delay"):
            from . import delays

            if delays.is_long(body):  # beyond SQS's 15 minutes: a one-time Scheduler schedule
                delays.schedule(queue, body)
                continue
        by_queue.setdefault(queue, []).append(body)
    client = sqs()
    for queue, bodies in by_queue.items():
        url = settings().queue_url(queue)
        for start in range(0, len(bodies), MAX_BATCH):
            chunk = bodies[start : start + MAX_BATCH]
            entries = [_entry(str(i), b) for i, b in enumerate(chunk)]
            for _attempt in range(2):
                failed = client.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
                if not failed:
                    break
                ids = {f["Id"] for f in failed}
                entries = [e for e in entries if e["Id"] in ids]
            else:
                raise RuntimeError(f"{len(entries)} message(s) could not be queued on the {queue} queue")
