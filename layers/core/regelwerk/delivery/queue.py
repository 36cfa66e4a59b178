"""The SQS transport: action messages onto the mail, SMS, PDF and actions queues, ten to a SendMessageBatch.

Pure transport: what a message means, and whether it should wait on a schedule instead, is decided
before (``delivery.handoff``). A message may wait on its queue up to SQS's 15 minutes (DelaySeconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..clients import client
from ..engine.rule import parse_duration
from ..model.messages import ActionMessage, dumps
from ..settings import settings

MAX_BATCH = 10
MAX_BATCH_BYTES = 250 * 1024  # SQS: 256 KiB a message and a batch; what a message carries is kept under it
MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds

# what a queue carries: an action message, or a fan-out / continuation message of the actions queue
Body = ActionMessage | Mapping[str, Any]


def _entry(entry_id: str, body: Body) -> dict[str, Any]:
    if isinstance(body, ActionMessage):
        seconds = body.delay_seconds  # a throttled message's backoff
        if body.delay:  # the action's own delay (longer ones never reach this queue: see handoff)
            seconds = int(parse_duration(body.delay).total_seconds())
        text = body.dumps()
    else:
        seconds, text = None, dumps(body)
    entry: dict[str, Any] = {"Id": entry_id, "MessageBody": text}
    if seconds:
        entry["DelaySeconds"] = min(int(seconds), MAX_DELAY_SECONDS)
    return entry


def _batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entries in SendMessageBatch calls: at most ten a call and at most 250 KiB of bodies together."""
    batches: list[list[dict[str, Any]]] = []
    size = 0
    for entry in entries:
        length = len(entry["MessageBody"].encode())
        if not batches or len(batches[-1]) == MAX_BATCH or size + length > MAX_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += length
    return batches


def send(messages: Sequence[tuple[str, Body]]) -> None:
    """Send (queue name, message) pairs with SendMessageBatch, ten a call, retrying entries that failed once.

    Raises if an entry still fails: the caller's retry re-sends all of them, and the handlers'
    deduplication on the action id keeps that from sending anything twice.
    """
    by_queue: dict[str, list[Body]] = {}
    for queue, body in messages:
        by_queue.setdefault(queue, []).append(body)
    sqs = client("sqs")
    for queue, bodies in by_queue.items():
        url = settings().queue_url(queue)
        for entries in _batches([_entry(str(i), b) for i, b in enumerate(bodies)]):
            for _attempt in range(2):
                failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
                if not failed:
                    break
                ids = {f["Id"] for f in failed}
                entries = [e for e in entries if e["Id"] in ids]
            else:
                raise RuntimeError(f"{len(entries)} message(s) could not be queued on the {queue} queue")
