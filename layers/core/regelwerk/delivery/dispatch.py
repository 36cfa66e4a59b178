"""Carrying out one queued action exactly once, as far as AWS allows.

Every action message goes through ``deliver``:

1. **claim**: a conditional write of ``delivery#<action id>`` in the idempotency table
   (``ledger.claim``: state ``sending``, with a lease as long as the function may run). Only one
   consumer can hold it; a second copy of the message sees the claim and stops.
2. **check**: the send-time guards (``guards.held_back``: an invoice paid since its reminder was planned).
3. **perform**: render and hand the message to the provider (SES, SNS, S3).
4. **record**: the claim becomes ``sent`` with the provider's message id, the run log shows the
   action as sent, and in sequential mode the next action is queued.

A failure in 3 (provider said no, template broken) marks the claim ``failed``: the message is
retried and ends in the DLQ after the queue's maxReceiveCount, its reason in the run log.

The gap AWS leaves: if the function dies after the provider accepted the message but before step 4,
a redelivered copy finds an expired ``sending`` claim. For customer-visible messages (e-mail, SMS)
Regelwerk then does **not** send again and marks the action ``unconfirmed`` in the run log: at most
once in that gap, never twice. Repeatable actions (a PDF written to a fixed S3 key) are simply done again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..engine.rule import queue_of
from ..errors import ActionFailed
from ..model.messages import ActionMessage
from ..observability import logger
from ..store.contexts import with_context
from ..store.runs import record_delivery
from . import delays, guards, ledger, queue
from .handoff import hand_off
from .outcome import Outcome, RetryLater, Throttled

MAX_RECEIVES = 5  # the queues' maxReceiveCount in template.yaml
MAX_THROTTLED = 12  # a message the provider throttled is put back this often (backoff up to 15 minutes) at most
THROTTLE_PAUSE_SECONDS = 5  # the first pause; it doubles with each throttle

Perform = Callable[[ActionMessage], Outcome]

__all__ = ["MAX_RECEIVES", "Outcome", "Perform", "RetryLater", "Throttled", "deliver", "deliver_record"]


def deliver(msg: ActionMessage, perform: Perform, *, repeatable: bool = False, receive_count: int = 1) -> str:
    """Carry out one action message. Returns the final state; raises to have SQS retry it."""
    msg = with_context(msg)  # a large context travels parked in S3: read it back
    held = ledger.claim(msg.action_id)
    if held is not None:
        if held.status == "sent":
            logger.info("duplicate delivery skipped", extra={"action_id": msg.action_id})
            # the first copy may have died before queuing the next action: queuing it again is harmless
            if not held.done.get("skipped"):  # held back when it was due: so is the rest of its chain
                _queue_next(msg, Outcome(provider_id=held.done.get("provider_id"), output=held.done.get("output")))
            return "duplicate"
        if held.status == "unconfirmed":
            return "unconfirmed"
        if ledger.lease_running(held):
            raise RetryLater(f"action {msg.action_id} is being sent by another consumer")
        if not repeatable:
            ledger.mark_unconfirmed(msg.action_id)
            record_delivery(
                msg,
                "unconfirmed",
                reason="the handler stopped while sending; not sent again to avoid a "
                "duplicate (the provider may or may not have accepted it)",
            )
            return "unconfirmed"
        ledger.claim(msg.action_id, take_over=True)  # a repeatable action whose worker died: redo it
    reason = guards.held_back(msg)
    if reason:  # paid (or moved on) since the reminder was planned
        ledger.mark_skipped(msg.action_id)
        record_delivery(msg, "skipped", reason=reason)
        return "skipped"
    try:
        outcome = perform(msg)
    except Throttled as exc:
        if (msg.throttled or 0) < MAX_THROTTLED:
            return _back_off(msg, str(exc))
        raise
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ActionFailed) else str(exc)
        ledger.mark_failed(msg.action_id)
        final = receive_count >= MAX_RECEIVES
        record_delivery(
            msg,
            "dead_lettered" if final else "failed",
            reason=why[:1000],
            attempts=receive_count,
            note="moved to the dead-letter queue after its last attempt" if final else "will be retried",
        )
        logger.warning(
            "action failed",
            extra={"action_id": msg.action_id, "attempt": receive_count, "error_type": type(exc).__name__},
        )
        raise
    ledger.mark_sent(msg.action_id, outcome.provider_id, outcome.output)
    record_delivery(
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


def _back_off(msg: ActionMessage, reason: str) -> str:
    """Put a throttled message back on its queue with a growing delay; this copy then counts as handled.

    Nothing was sent, so releasing the claim (state ``failed``, which the next copy may take) cannot
    duplicate; and the copy is on the queue before this one is deleted, so nothing is lost. Unlike an
    SQS retry it does not use up the message's receives, so a long throttle never dead-letters it.
    """
    n = (msg.throttled or 0) + 1
    seconds = min(900, THROTTLE_PAUSE_SECONDS * 2**n)
    ledger.mark_failed(msg.action_id)
    again = replace(msg.without_delay(), throttled=n, delay_seconds=seconds)  # its own delay was served already
    queue.send([(queue_of(msg.action), again)])
    record_delivery(
        msg, "throttled", reason=reason[:500], note=f"provider rate limit: retrying in {seconds} s (pause {n})"
    )
    return "throttled"


def _queue_next(msg: ActionMessage, outcome: Outcome) -> None:
    """Sequential mode: the next action starts only now that this one succeeded."""
    if not msg.then:
        return
    outputs = dict(msg.outputs)
    name = msg.action.get("as")
    if name and outcome.output is not None:
        outputs[name] = outcome.output
    nxt, rest = msg.then[0], msg.then[1:]
    follow = ActionMessage.plan(
        shop_id=msg.shop_id,
        run_id=msg.run_id,
        event_type=msg.event_type,
        action_id=nxt["action_id"],
        rule_id=msg.rule_id,
        rule_version=msg.rule_version,
        action=nxt["action"],
        context=msg.context,
        then=rest,
        outputs=outputs,
        depth=msg.depth,
    )
    if msg.context_ref:  # the same context: the next action takes the parked one along, not a copy
        follow = follow.parked(msg.context_ref)
    hand_off([(nxt["queue"], follow)])
    if delays.is_long(follow):
        record_delivery(follow, "delayed", until=delays.due_at(follow).isoformat())
    else:
        record_delivery(follow, "queued")


def deliver_record(record: Any, perform: Perform, *, repeatable: bool = False) -> str:
    """Run one SQS record (a Powertools SQSRecord) through ``deliver``."""
    msg = ActionMessage.from_message(json.loads(record.body))
    receive_count = int(record.attributes.approximate_receive_count or 1)
    return deliver(msg, perform, repeatable=repeatable, receive_count=receive_count)
