"""Carrying out one queued action exactly once, as far as AWS allows.

Every action message goes through ``deliver``:

1. **claim**: a conditional write of ``delivery#<action id>`` in the idempotency table
   (state ``sending``, with a lease as long as the function may run). Only one consumer
   can hold it; a second copy of the message sees the claim and stops.
2. **perform**: render and hand the message to the provider (SES, SNS, S3).
3. **record**: the claim becomes ``sent`` with the provider's message id, the run log
   shows the action as sent, and in sequential mode the next action is queued.

A failure in 2 (provider said no, template broken) marks the claim ``failed``: the message
is retried and ends in the DLQ after the queue's maxReceiveCount, its reason in the run log.

The gap AWS leaves: if the function dies after the provider accepted the message but
before step 3, a redelivered copy finds an expired ``sending`` claim. For customer-visible
messages (e-mail, SMS) Regelwerk then does **not** send again and marks the action
``unconfirmed`` in the run log: at most once in that gap, never twice. Repeatable actions
(a PDF written to a fixed S3 key) are simply done again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from . import queue
from .errors import ActionFailed
from .observability import logger
from .rule import queue_of
from .store.tables import LedgerItem, RunItem

LEASE = timedelta(minutes=5)  # longer than any consumer's timeout (see template.yaml)
LEDGER_DAYS = 14  # longer than the queues' retention, so every redelivery still finds its claim
MAX_RECEIVES = 5  # the queues' maxReceiveCount in template.yaml


MAX_THROTTLED = 12  # a message the provider throttled is put back this often (backoff up to 15 minutes) at most
THROTTLE_PAUSE_SECONDS = 5  # the first pause; it doubles with each throttle


class RetryLater(Exception):
    """Another consumer holds the claim right now: let SQS deliver this message again later."""


class Throttled(Exception):
    """The provider refused for its sending rate (SES, SNS): nothing was sent, try again after a pause."""


@dataclass
class Outcome:
    provider_id: str | None = None
    output: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    state: str = "sent"  # "done" for actions that change data; "stopped" when a guard held the action back


def _now() -> datetime:
    return datetime.now(UTC)


def record(msg: dict[str, Any], state: str, **extra: Any) -> None:
    """Set this action's delivery state in the run log (one UpdateItem on a map path)."""
    if msg.get("release_note"):  # a delayed action: what was decided when it came due stays in its entry
        extra.setdefault("note", msg["release_note"])
    if msg.get("delayed_from"):
        extra.setdefault("due", msg["delayed_from"])
    entry = {
        "state": state,
        "rule": msg["rule_id"],
        "type": msg["action"]["type"],
        "event": msg["event_type"],
        "at": _now().isoformat(),
        **{k: v for k, v in extra.items() if v is not None},
    }
    actions = [RunItem.deliveries[msg["action_id"]].set(entry)]
    if state == "dead_lettered":  # into the sparse index the owner's daily digest reads
        actions.append(RunItem.dead_at.set(entry["at"]))
    try:
        RunItem(msg["shop_id"], msg["run_id"]).update(actions=actions, condition=RunItem.run_id.exists())
    except UpdateError:
        logger.warning("run log entry missing", extra={"run_id": msg["run_id"], "action_id": msg["action_id"]})


def deliver(
    msg: dict[str, Any],
    perform: Callable[[dict[str, Any]], Outcome],
    *,
    repeatable: bool = False,
    receive_count: int = 1,
) -> str:
    """Carry out one action message. Returns the final state; raises to have SQS retry it."""
    key = f"delivery#{msg['action_id']}"
    now = _now()
    claim = LedgerItem(
        key,
        status="sending",
        expiration=now + timedelta(days=LEDGER_DAYS),
        updated_at=now.isoformat(),
        detail=str(int(time.time() + LEASE.total_seconds())),
    )
    try:
        claim.save(condition=LedgerItem.id.does_not_exist() | (LedgerItem.status == "failed"))
    except PutError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise
        existing = LedgerItem.get(key, consistent_read=True)
        if existing.status == "sent":
            logger.info("duplicate delivery skipped", extra={"action_id": msg["action_id"]})
            # the first copy may have died before queuing the next action: queuing it again is harmless
            done = json.loads(existing.detail or "{}")
            if done.get("skipped"):  # held back when it was due: so is the rest of its chain
                return "duplicate"
            _queue_next(msg, Outcome(provider_id=done.get("provider_id"), output=done.get("output")))
            return "duplicate"
        if existing.status == "unconfirmed":
            return "unconfirmed"
        lease_until = int(existing.detail or 0)
        if time.time() < lease_until:
            raise RetryLater(f"action {msg['action_id']} is being sent by another consumer") from exc
        if not repeatable:
            LedgerItem(key).update(actions=[LedgerItem.status.set("unconfirmed")])
            record(
                msg,
                "unconfirmed",
                reason="the handler stopped while sending; not sent again to avoid a "
                "duplicate (the provider may or may not have accepted it)",
            )
            return "unconfirmed"
        claim.save()  # a repeatable action whose worker died: take the claim over and redo it
    if msg.get("event_type") == "invoice.overdue":
        from .dunning import still_due

        reason = still_due(msg)
        if reason:  # paid (or moved on) since the reminder was planned
            LedgerItem(key).update(actions=[LedgerItem.status.set("sent"), LedgerItem.detail.set('{"skipped": true}')])
            record(msg, "skipped", reason=reason)
            return "skipped"
    try:
        outcome = perform(msg)
    except Throttled as exc:
        if msg.get("throttled", 0) < MAX_THROTTLED:
            return _back_off(msg, key, str(exc))
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ActionFailed) else str(exc)
        LedgerItem(key).update(actions=[LedgerItem.status.set("failed"), LedgerItem.updated_at.set(_now().isoformat())])
        final = receive_count >= MAX_RECEIVES
        record(
            msg,
            "dead_lettered" if final else "failed",
            reason=reason[:1000],
            attempts=receive_count,
            note="moved to the dead-letter queue after its last attempt" if final else "will be retried",
        )
        logger.warning(
            "action failed",
            extra={"action_id": msg["action_id"], "attempt": receive_count, "error_type": type(exc).__name__},
        )
        raise
    done = queue.dumps({"provider_id": outcome.provider_id, "output": outcome.output})
    LedgerItem(key).update(
        actions=[
            LedgerItem.status.set("sent"),
            LedgerItem.detail.set(done),
            LedgerItem.updated_at.set(_now().isoformat()),
        ]
    )
    record(
        msg,
        outcome.state,
        provider_id=outcome.provider_id,
        attempts=receive_count,
        output=outcome.output,
        **outcome.detail,
    )
    if outcome.state != "stopped":
        _queue_next(msg, outcome)
    return outcome.state


def _back_off(msg: dict[str, Any], key: str, reason: str) -> str:
    """Put a throttled message back on its queue with a growing delay; this copy then counts as handled.

    Nothing was sent, so releasing the claim (state ``failed``, which the next copy may take) cannot
    duplicate; and the copy is on the queue before this one is deleted, so nothing is lost. Unlike an
    SQS retry it does not use up the message's receives, so a long throttle never dead-letters it.
    """
    n = int(msg.get("throttled", 0)) + 1
    seconds = min(900, THROTTLE_PAUSE_SECONDS * 2**n)
    LedgerItem(key).update(actions=[LedgerItem.status.set("failed"), LedgerItem.updated_at.set(_now().isoformat())])
    served = {k: v for k, v in msg["action"].items() if k != "delay"}  # its own delay was served already
    again = msg | {"action": served, "throttled": n, "delay_seconds": seconds}
    queue.send([(queue_of(msg["action"]), again)])
    record(msg, "throttled", reason=reason[:500], note=f"provider rate limit: retrying in {seconds} s (pause {n})")
    return "throttled"


def _queue_next(msg: dict[str, Any], outcome: Outcome) -> None:
    """Sequential mode: the next action starts only now that this one succeeded."""
    if not msg.get("then"):
        return
    outputs = dict(msg.get("outputs") or {})
    name = msg["action"].get("as")
    if name and outcome.output is not None:
        outputs[name] = outcome.output
    nxt, rest = msg["then"][0], msg["then"][1:]
    follow = queue.message(
        shop_id=msg["shop_id"],
        run_id=msg["run_id"],
        event_type=msg["event_type"],
        action_id=nxt["action_id"],
        rule_id=msg["rule_id"],
        rule_version=msg["rule_version"],
        action=nxt["action"],
        context=msg["context"],
        then=rest,
        outputs=outputs,
        depth=msg.get("depth", 0),
    )
    queue.send([(nxt["queue"], follow)])
    from . import delays

    if delays.is_long(follow):
        record(follow, "delayed", until=delays.due_at(follow).isoformat())
    else:
        record(follow, "queued")


def deliver_record(record: Any, perform: Callable[[dict[str, Any]], Outcome], *, repeatable: bool = False) -> str:
    """Run one SQS record (a Powertools SQSRecord) through ``deliver``."""
    import json as _json

    msg = _json.loads(record.body)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    return deliver(msg, perform, repeatable=repeatable, receive_count=receive_count)
