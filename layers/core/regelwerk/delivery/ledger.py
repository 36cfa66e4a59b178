"""The delivery ledger: one ``delivery#<action id>`` item per action in the idempotency table.

Its state says how far an action got: ``sending`` (claimed, with a lease as long as a handler may
run), ``sent`` (done, with what the provider answered), ``failed`` (free to claim again), or
``unconfirmed`` (a handler died mid-send: never sent again). Only one consumer can hold a claim.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from ..model.messages import dumps
from ..store.tables import LedgerItem

LEASE = timedelta(minutes=5)  # longer than any consumer's timeout (see template.yaml)
LEDGER_DAYS = 14  # longer than the queues' retention, so every redelivery still finds its claim


@dataclass(frozen=True, slots=True)
class Held:
    """Someone claimed this action before: its state and what it recorded."""

    status: str
    lease_until: float
    done: dict[str, Any]


def _key(action_id: str) -> str:
    return f"delivery#{action_id}"


def _now() -> datetime:
    return datetime.now(UTC)


def claim(action_id: str, *, take_over: bool = False) -> Held | None:
    """Claim the action for this consumer (None), or say who holds it. ``take_over``: claim it whatever its state."""
    now = _now()
    item = LedgerItem(
        _key(action_id),
        status="sending",
        expiration=now + timedelta(days=LEDGER_DAYS),
        updated_at=now.isoformat(),
        detail=str(int(time.time() + LEASE.total_seconds())),
    )
    if take_over:
        item.save()
        return None
    try:
        item.save(condition=LedgerItem.id.does_not_exist() | (LedgerItem.status == "failed"))
    except PutError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise
        existing = LedgerItem.get(_key(action_id), consistent_read=True)
        if existing.status == "sent":
            return Held("sent", 0, json.loads(existing.detail or "{}"))
        lease = float(existing.detail or 0) if existing.status == "sending" else 0
        return Held(existing.status, lease, {})
    return None


def lease_running(held: Held) -> bool:
    return time.time() < held.lease_until


def mark_sent(action_id: str, provider_id: str | None = None, output: Any = None) -> None:
    _set(action_id, "sent", dumps({"provider_id": provider_id, "output": output}))


def mark_skipped(action_id: str) -> None:
    """Held back when due: counts as done, and so does the rest of its chain."""
    LedgerItem(_key(action_id)).update(
        actions=[LedgerItem.status.set("sent"), LedgerItem.detail.set('{"skipped": true}')]
    )


def mark_failed(action_id: str) -> None:
    """Nothing was sent: the next copy of the message may claim it again."""
    LedgerItem(_key(action_id)).update(
        actions=[LedgerItem.status.set("failed"), LedgerItem.updated_at.set(_now().isoformat())]
    )


def mark_unconfirmed(action_id: str) -> None:
    LedgerItem(_key(action_id)).update(actions=[LedgerItem.status.set("unconfirmed")])


def _set(action_id: str, status: str, detail: str) -> None:
    LedgerItem(_key(action_id)).update(
        actions=[
            LedgerItem.status.set(status),
            LedgerItem.detail.set(detail),
            LedgerItem.updated_at.set(_now().isoformat()),
        ]
    )
