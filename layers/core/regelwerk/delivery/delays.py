"""Delayed actions beyond SQS's 15 minutes ("7d after shipping"): one EventBridge Scheduler schedule each.

**Plan.** ``handoff.hand_off`` gives an action whose delay is longer than 15 minutes to ``schedule``:
the message is kept and a one-time schedule made (``store.delayed``). Nothing polls a table:
Scheduler holds the pending actions (a million per account by default, raisable) and fires each once,
deleting the schedule after it ran.

**Fire.** The actions handler reads the pointer (``release``): the send-time guards decide
(``guards.decide_release``: cancelled if the rule was deleted or disabled meanwhile, rechecked when
the action asks for it, sent as planned when the rule was only edited); then the message goes to its
queue without the delay, and the usual delivery ledger sends it exactly once.

**Cancel.** Disabling or deleting a rule deletes its pending schedules and marks their actions
cancelled in the run log (``store.delayed.cancel_rule``). A schedule that fires during that race still
finds the rule disabled and cancels itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ..engine.rule import SQS_MAX_DELAY, parse_duration
from ..model.messages import ActionMessage, SchedulerPointer
from ..observability import logger
from ..store import delayed
from ..store.contexts import slim, with_context
from ..store.runs import record_delivery
from . import guards, queue


def delay_of(msg: ActionMessage) -> timedelta | None:
    return parse_duration(msg.delay) if msg.delay else None


def is_long(msg: ActionMessage) -> bool:
    """Whether a message's delay needs a schedule (longer than SQS's DelaySeconds can hold)."""
    delay = delay_of(msg)
    return delay is not None and delay > SQS_MAX_DELAY


def due_at(msg: ActionMessage, now: datetime | None = None) -> datetime:
    """When a delayed action is due: its delay after it was first planned (stable across retries)."""
    start = datetime.fromisoformat(msg.planned_at) if msg.planned_at else (now or datetime.now(UTC))
    delay = delay_of(msg) or timedelta(0)
    return (start + delay).astimezone(UTC).replace(microsecond=0)


def schedule(queue_name: str, msg: ActionMessage, now: datetime | None = None) -> datetime:
    """Keep the message and create its one-time schedule. Idempotent. Returns when it is due."""
    now = now or datetime.now(UTC)
    if msg.planned_at is None:
        msg = replace(msg, planned_at=now.isoformat())
    due = due_at(msg, now)
    delayed.keep(queue_name, msg, due, now)
    return due


def release(pointer: SchedulerPointer) -> str:
    """A delayed action's schedule fired: send it on to its queue, or record why not. Idempotent."""
    found = delayed.waiting(pointer.action_id)
    if found is None:
        logger.warning("delayed action not found", extra={"action_id": pointer.action_id})
        return "unknown"
    if found.status != "scheduled":
        return found.status  # released before (Scheduler delivers at least once) or cancelled
    msg = with_context(found.message)  # a large context waited parked in S3
    decision, reason, ctx = guards.decide_release(msg)
    if decision != "go":
        if delayed.mark(pointer.action_id, decision):
            record_delivery(msg, decision, reason=reason)
        return decision
    # the context as it is now (recheck may have read the order again): parked afresh if it is large
    ready = replace(msg.without_delay(), context=ctx, context_ref=None, delayed_from=found.due, release_note=reason)
    queue.send(slim([(found.queue, ready)]))  # a second copy (crash before mark) is deduplicated on the action id
    if delayed.mark(pointer.action_id, "released"):
        record_delivery(msg, "queued", note=reason, due=found.due)
    return "released"
