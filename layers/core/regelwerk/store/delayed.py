"""Delayed actions while they wait: the stored message and its one-time EventBridge Scheduler schedule.

The whole action message is kept in the idempotency table (``delayed#<action id>``, state
``scheduled``) and a one-time schedule ``at(<due>)`` puts a small ``SchedulerPointer`` on the actions
queue when it is due. Both are keyed on the action id, so keeping a message again (a retried event)
changes nothing. Schedule names start with ``rwd-`` and the rule's prefix, so a rule's pending
actions are found without a table scan when it is disabled or deleted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from ..clients import client
from ..model.messages import ActionMessage, SchedulerPointer, dumps
from ..settings import settings
from .runs import record_delivery
from .tables import LedgerItem

PREFIX = "rwd-"
KEEP_AFTER_DUE = timedelta(days=14)  # the stored message outlives Scheduler's retries (a day at most)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A stored delayed action: its state, the queue it goes to when due, when that is, and the message."""

    status: str
    queue: str
    due: str | None
    message: ActionMessage


def rule_prefix(shop_id: str, rule_id: str) -> str:
    return PREFIX + hashlib.sha256(f"{shop_id}\x1f{rule_id}".encode()).hexdigest()[:24] + "-"


def schedule_name(msg: ActionMessage) -> str:
    """At most 64 characters, as Scheduler requires; the rule's prefix lets ``cancel_rule`` find them."""
    action = hashlib.sha256(msg.action_id.encode()).hexdigest()[:24]
    return rule_prefix(msg.shop_id, msg.rule_id) + action


def keep(queue_name: str, msg: ActionMessage, due: datetime, now: datetime) -> None:
    """Store the message and create its one-time schedule. Idempotent."""
    s = settings()
    missing = [n for n in ("schedule_group", "actions_queue_arn", "delay_role_arn") if not getattr(s, n)]
    if missing:
        raise RuntimeError(
            f"{', '.join(m.upper() for m in missing)} not configured: cannot delay action {msg.action_id}"
        )
    LedgerItem(
        f"delayed#{msg.action_id}",
        status="scheduled",
        expiration=due + KEEP_AFTER_DUE,
        updated_at=now.isoformat(),
        detail=dumps({"queue": queue_name, "due": due.isoformat(), "message": msg.to_message()}),
    ).save(condition=LedgerItem.id.does_not_exist() | (LedgerItem.status == "scheduled"))
    pointer = SchedulerPointer(action_id=msg.action_id, shop_id=msg.shop_id, run_id=msg.run_id)
    target: dict[str, Any] = {
        "Arn": s.actions_queue_arn,
        "RoleArn": s.delay_role_arn,
        "Input": json.dumps(pointer.to_message()),
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    if s.schedule_dlq_arn:
        target["DeadLetterConfig"] = {"Arn": s.schedule_dlq_arn}
    scheduler = client("scheduler")
    try:
        scheduler.create_schedule(
            Name=schedule_name(msg),
            GroupName=s.schedule_group,
            Description=f"{msg.shop_id}/{msg.rule_id} {msg.action.get('type')} due {due.isoformat()}",
            ScheduleExpression=f"at({due:%Y-%m-%dT%H:%M:%S})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
            ActionAfterCompletion="DELETE",
        )
    except scheduler.exceptions.ConflictException:
        pass  # planned before (a retried event): the schedule is already there


def waiting(action_id: str) -> Waiting | None:
    """The stored delayed action, read consistently, or None."""
    try:
        item = LedgerItem.get(f"delayed#{action_id}", consistent_read=True)
    except LedgerItem.DoesNotExist:
        return None
    stored = json.loads(item.detail or "{}")
    return Waiting(
        status=item.status,
        queue=stored["queue"],
        due=stored.get("due"),
        message=ActionMessage.from_message(stored["message"]),
    )


def mark(action_id: str, status: str) -> bool:
    """Move a stored delayed action out of ``scheduled``; False when something else did it first."""
    try:
        LedgerItem(f"delayed#{action_id}").update(
            actions=[LedgerItem.status.set(status), LedgerItem.updated_at.set(datetime.now(UTC).isoformat())],
            condition=LedgerItem.status == "scheduled",
        )
    except UpdateError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise
        return False
    return True


def cancel_rule(shop_id: str, rule_id: str, reason: str) -> int:
    """Delete a rule's pending delayed actions (the rule was disabled or deleted). Returns how many."""
    s = settings()
    if not s.schedule_group:
        return 0
    scheduler = client("scheduler")
    names: list[str] = []
    for page in scheduler.get_paginator("list_schedules").paginate(
        GroupName=s.schedule_group, NamePrefix=rule_prefix(shop_id, rule_id)
    ):
        names.extend(item["Name"] for item in page["Schedules"])
    cancelled = 0
    for name in names:
        try:
            spec = scheduler.get_schedule(GroupName=s.schedule_group, Name=name)
            scheduler.delete_schedule(GroupName=s.schedule_group, Name=name)
        except scheduler.exceptions.ResourceNotFoundException:
            continue  # fired or deleted meanwhile
        pointer = SchedulerPointer.from_message(json.loads(spec["Target"].get("Input") or '{"delayed": ""}'))
        found = waiting(pointer.action_id) if pointer.action_id else None
        if found and _retire(pointer.action_id, found, reason):
            cancelled += 1
    return cancelled


def cancel_action(action_id: str, reason: str) -> bool:
    """Cancel one waiting delayed action (its customer was erased): the schedule deleted, the stored action
    marked ``cancelled`` so that a schedule firing in the race finds it so and sends nothing. Idempotent."""
    found = waiting(action_id)
    if found is None or found.status != "scheduled":
        return False
    s = settings()
    if s.schedule_group:
        scheduler = client("scheduler")
        try:
            scheduler.delete_schedule(GroupName=s.schedule_group, Name=schedule_name(found.message))
        except scheduler.exceptions.ResourceNotFoundException:
            pass  # fired or deleted meanwhile: the mark below decides
    return _retire(action_id, found, reason)


def _retire(action_id: str, found: Waiting, reason: str) -> bool:
    if not mark(action_id, "cancelled"):
        return False
    record_delivery(found.message, "cancelled", reason=reason)
    return True
