"""Handing planned actions on: to their queue now, or to a one-time schedule when their delay is longer
than SQS can hold (15 minutes)."""

from __future__ import annotations

from collections.abc import Sequence

from ..model.messages import ActionMessage
from ..store.contexts import slim
from . import delays, queue


def hand_off(messages: Sequence[tuple[str, ActionMessage]]) -> None:
    """Queue (queue name, message) pairs; those due later than SQS can wait become schedules.

    Raises if a message could not be queued: the caller's retry hands all of them on again, and the
    delivery ledger's deduplication on the action id keeps that from sending anything twice.
    """
    now_or_soon: list[tuple[str, queue.Body]] = []
    for name, msg in slim(list(messages)):  # large contexts are parked in S3, once
        if delays.is_long(msg):
            delays.schedule(name, msg)
        else:
            now_or_soon.append((name, msg))
    queue.send(now_or_soon)
