"""Large action contexts parked in S3, so that an order of any size within the body limit travels.

An action message carries its context (order, customer, invoice, event) so that its handler reads
nothing else. A 600-line order makes that context ~170 KB: one per planned action in the run item
(DynamoDB: 400 KB an item) and on the queues (SQS: 256 KB a message, 256 KB a batch) would not fit.
A context over ``INLINE_BYTES`` is written once per run and event to the documents bucket
(``contexts/<shop>/<run>/<sha256>.json``, private, encrypted, expired by the bucket's lifecycle
after the longest delay an action can wait) and the message carries its key instead
(``ActionMessage.context_ref``); the handler reads it back before it acts.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from ..clients import client
from ..model.messages import ActionMessage, dumps
from ..settings import settings

INLINE_BYTES = 24 * 1024  # ten of these still fit one SendMessageBatch (256 KB)
PREFIX = "contexts/"


def park(shop_id: str, run_id: str, text: str) -> str:
    """Store a context's JSON text; returns its key (the same text, the same key: a retry overwrites)."""
    key = f"{PREFIX}{shop_id}/{run_id}/{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"
    client("s3").put_object(
        Bucket=_bucket(),
        Key=key,
        Body=text.encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    return key


@lru_cache(maxsize=16)
def _fetch(key: str) -> str:
    return client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read().decode()


def fetch(key: str) -> dict[str, Any]:
    """A parked context (a warm container keeps the last few: one event's actions share one)."""
    if not key.startswith(PREFIX):
        raise ValueError(f"not a parked context: {key!r}")
    return dict(json.loads(_fetch(key)))


def slim(messages: list[tuple[str, ActionMessage]]) -> list[tuple[str, ActionMessage]]:
    """The messages with every context over ``INLINE_BYTES`` parked (each distinct context once)."""
    parked: dict[int, str] = {}
    out = []
    for queue, msg in messages:
        if msg.context_ref is None and msg.context:
            ref = parked.get(id(msg.context))
            if ref is None:
                text = dumps(msg.context)
                if len(text.encode()) > INLINE_BYTES:
                    ref = parked[id(msg.context)] = park(msg.shop_id, msg.run_id, text)
            if ref is not None:
                msg = msg.parked(ref)
        out.append((queue, msg))
    return out


def with_context(msg: ActionMessage) -> ActionMessage:
    """The message with its parked context read back (it keeps its reference, so what it hands on stays small)."""
    if msg.context_ref and not msg.context:
        msg.context = fetch(msg.context_ref)
    return msg


def _bucket() -> str:
    bucket = settings().documents_bucket
    if not bucket:
        raise RuntimeError("DOCUMENTS_BUCKET is not configured (large action contexts are kept there)")
    return bucket
