"""The local stack's clock: set or advance it, and every schedule slot that came due runs.

The time is kept in the local stack itself (an SSM parameter on the moto server), so it lives
and dies with the stack. Moving it forward plays EventBridge Scheduler: it lists the schedules
of the stack's group, computes each one's slots in its time zone between the old and the new
time, and invokes the schedule's target, the real schedule function, with the schedule's
``Input`` and ``<aws.scheduler.scheduled-time>`` filled in, oldest slot first. The function keys
its run on the slot, so a slot played twice (clock set back and forward again) runs once.

One-time schedules (``at(...)``, the delayed actions: "review request 7 days after shipping") are
played the same way: when the clock passes their time, their input goes to their target queue and
the schedule is deleted, as Scheduler does with ``ActionAfterCompletion: DELETE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

PARAMETER = "/regelwerk/local/clock"
MAX_SLOTS = 1000  # per move: a year of a 10-minute schedule is 52,560 slots, more than anyone wants to watch

Invoke = Callable[[str, dict[str, Any]], Any]  # (function logical id, event) -> answer


class ClockError(Exception):
    pass


@dataclass
class Fired:
    slot: str
    shop_id: str
    rule_id: str
    answer: Any = None
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return f"{self.slot}  {self.shop_id}/{self.rule_id}  FAILED: {self.error}"
        if self.rule_id == "delayed action":
            return f"{self.slot}  {self.shop_id}  delayed action due: put on the actions queue"
        if self.rule_id == "dead_letter_digest":
            n = (self.answer or {}).get("dead_letters", 0)
            return f"{self.slot}  {self.shop_id}  digest: {n} dead-lettered action(s) e-mailed to the owner"
        if self.rule_id == "overdue_scan":
            n = (self.answer or {}).get("invoices", 0)
            return f"{self.slot}  {self.shop_id}  overdue scan: {n} open invoice(s) past due checked for dunning"
        a = self.answer or {}
        what = "already ran" if a.get("duplicate") else f"fired {', '.join(a.get('rules_fired', [])) or 'nothing'}"
        return f"{self.slot}  {self.shop_id}/{self.rule_id}  {what}, {a.get('actions_queued', 0)} action(s) queued"


def parse_time(text: str) -> datetime:
    """``2026-12-01T08:00+01:00``; the offset is required (a local clock has no time zone of its own)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ClockError(f"cannot read {text!r}: use ISO 8601 with an offset, e.g. 2026-12-01T08:00+01:00") from exc
    if when.tzinfo is None:
        raise ClockError(f"{text!r} has no UTC offset: add one, e.g. {text}+01:00 or {text}Z")
    return when


def _ssm() -> Any:
    import boto3

    return boto3.client("ssm")


def now() -> datetime | None:
    """The local clock, or None when it was never set."""
    ssm = _ssm()
    try:
        return datetime.fromisoformat(ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def move_to(when: datetime, invoke: Invoke) -> list[Fired]:
    """Set the clock; when it moves forward from a set time, run the schedule slots in between."""
    before = now()
    _ssm().put_parameter(Name=PARAMETER, Value=when.isoformat(), Type="String", Overwrite=True)
    if before is None or when <= before:
        return []
    return fire_due(before, when, invoke)


def advance(step: str, invoke: Invoke) -> tuple[datetime, list[Fired]]:
    """Move the clock forward by ``15m``, ``24h`` or ``7d``."""
    from regelwerk.engine.rule import parse_duration

    before = now()
    if before is None:  # never set: the local clock starts at the real time
        from datetime import UTC

        before = datetime.now(UTC).replace(microsecond=0)
        _ssm().put_parameter(Name=PARAMETER, Value=before.isoformat(), Type="String", Overwrite=True)
    try:
        delta = parse_duration(step)
    except ValueError as exc:
        raise ClockError(f"{step!r}: {exc}") from exc
    return before + delta, move_to(before + delta, invoke)


def _schedules() -> list[dict[str, Any]]:
    import boto3

    from regelwerk.settings import settings

    group = settings().schedule_group
    if not group:
        raise ClockError("SCHEDULE_GROUP is not set: is this the local stack?")
    client = boto3.client("scheduler")
    names = []
    for page in client.get_paginator("list_schedules").paginate(GroupName=group, State="ENABLED"):
        names.extend(s["Name"] for s in page["Schedules"])
    return [client.get_schedule(GroupName=group, Name=n) for n in names]


def fire_due(after: datetime, until: datetime, invoke: Invoke) -> list[Fired]:
    """Run every slot in ``(after, until]`` of every enabled schedule, oldest first."""
    from regelwerk.engine.cron import Cron, utc_slot
    from regelwerk.store.schedules import SCHEDULED_TIME

    due: list[tuple[datetime, str, dict[str, Any]]] = []
    for schedule in _schedules():
        zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
        once = re.fullmatch(r"at\((.+)\)", schedule["ScheduleExpression"])
        if once:
            at = datetime.fromisoformat(once.group(1)).replace(tzinfo=zone)
            if after < at <= until:
                due.append((at, schedule["Name"], schedule["Target"]))
            continue
        cron = Cron.from_eventbridge(schedule["ScheduleExpression"])
        for slot in cron.slots(zone, after, until, limit=MAX_SLOTS):
            due.append((slot, schedule["Name"], schedule["Target"]))
    due.sort(key=lambda d: (d[0], d[1]))
    if len(due) > MAX_SLOTS:
        raise ClockError(
            f"{len(due)} schedule runs would be due; move the clock in smaller steps (at most {MAX_SLOTS})"
        )
    fired = []
    for slot, name, target in due:
        if target["Arn"].startswith("arn:aws:sqs:"):
            fired.append(_put_on_queue(utc_slot(slot), name, target))
            continue
        event = json.loads(target["Input"].replace(SCHEDULED_TIME, utc_slot(slot)))
        match = re.search(r":function:([^:]+)$", target["Arn"])
        item = Fired(utc_slot(slot), event.get("shop_id", "?"), event.get("rule_id") or event.get("job", "?"))
        try:
            if not match:
                raise ClockError(f"target {target['Arn']} is not a function of the local stack")
            item.answer = invoke(match.group(1), event)
        except Exception as exc:  # Scheduler would retry and then dead-letter; locally, report and go on
            item.error = f"{type(exc).__name__}: {exc}"
        if item.rule_id == "dead_letter_digest" and not item.error and not (item.answer or {}).get("dead_letters"):
            continue  # a quiet day: nothing dead-lettered, no digest, nothing to report
        fired.append(item)
    return fired


def _put_on_queue(slot: str, name: str, target: dict[str, Any]) -> Fired:
    """A one-time schedule with a queue target (a delayed action): send its input, then delete it."""
    import boto3

    from regelwerk.settings import settings

    pointer = json.loads(target["Input"])
    item = Fired(slot, pointer.get("shop_id", "?"), "delayed action")
    try:
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=target["Arn"].rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=target["Input"])
        boto3.client("scheduler").delete_schedule(GroupName=settings().schedule_group, Name=name)
        item.answer = {"queued": True}
    except Exception as exc:
        item.error = f"{type(exc).__name__}: {exc}"
    return item
