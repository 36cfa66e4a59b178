"""A rule's schedule triggers as EventBridge Scheduler schedules, kept in step with the rule.

Each schedule trigger of an enabled rule has one schedule in the stack's group, named from the
shop and rule (``rw-<hash>-<trigger index>``: unambiguous and within Scheduler's 64 characters).
It invokes the schedule function with ``{"shop_id", "rule_id", "scheduled_time"}``. Syncing
reads what exists and writes only the differences, so saving an unchanged rule changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..clients import client
from ..engine.rule import Rule
from ..settings import settings

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def _scheduler() -> Any:
    return client("scheduler")


def name_prefix(shop_id: str, rule_id: str) -> str:
    return "rw-" + hashlib.sha256(f"{shop_id}\x1f{rule_id}".encode()).hexdigest()[:24] + "-"


def has_schedule(rule: Rule | None) -> bool:
    return rule is not None and any(t.event == "schedule" for t in rule.all_triggers)


def desired_schedules(shop_id: str, rule: Rule, default_time_zone: str) -> dict[str, dict[str, Any]]:
    """The schedules a rule should have (none while it is disabled): name -> CreateSchedule arguments."""
    if not rule.enabled:
        return {}
    s = settings()
    missing = [n for n in ("schedule_group", "schedule_target_arn", "scheduler_role_arn") if not getattr(s, n)]
    if missing:
        raise RuntimeError(f"{', '.join(m.upper() for m in missing)} not configured: cannot schedule rule {rule.id!r}")
    target: dict[str, Any] = {
        "Arn": s.schedule_target_arn,
        "RoleArn": s.scheduler_role_arn,
        "Input": json.dumps({"shop_id": shop_id, "rule_id": rule.id, "scheduled_time": SCHEDULED_TIME}),
        # a missed run is retried for up to a day; the slot in the run id keeps retries from running twice
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    if s.schedule_dlq_arn:
        target["DeadLetterConfig"] = {"Arn": s.schedule_dlq_arn}
    out = {}
    for i, trigger in enumerate(rule.all_triggers):
        if trigger.schedule is None:
            continue
        name = f"{name_prefix(shop_id, rule.id)}{i}"
        out[name] = {
            "Name": name,
            "GroupName": s.schedule_group,
            "Description": f"{shop_id}/{rule.id} trigger {i}: {trigger.cron}",
            "ScheduleExpression": trigger.schedule.eventbridge(),
            "ScheduleExpressionTimezone": trigger.time_zone or default_time_zone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": target,
        }
    return out


def _differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return any(current.get(k) != v for k, v in wanted.items() if k not in ("GroupName", "Name"))


def sync_rule_schedules(shop_id: str, rule_id: str, rule: Rule | None, default_time_zone: str = "UTC") -> list[str]:
    """Create, update or delete the rule's schedules (``rule`` None: the rule was deleted). Returns the changes."""
    s = settings()
    if not s.schedule_group:
        if has_schedule(rule) and rule is not None and rule.enabled:
            raise RuntimeError(f"SCHEDULE_GROUP not configured: cannot schedule rule {rule_id!r}")
        return []  # nowhere to look: this function does not manage schedules
    client = _scheduler()
    wanted = desired_schedules(shop_id, rule, default_time_zone) if rule is not None else {}
    existing: set[str] = set()
    for page in client.get_paginator("list_schedules").paginate(
        GroupName=s.schedule_group, NamePrefix=name_prefix(shop_id, rule_id)
    ):
        existing.update(item["Name"] for item in page["Schedules"])
    changes = []
    for name in sorted(existing - set(wanted)):
        try:
            client.delete_schedule(GroupName=s.schedule_group, Name=name)
        except client.exceptions.ResourceNotFoundException:
            pass  # deleted concurrently
        changes.append(f"deleted schedule {name}")
    for name, spec in sorted(wanted.items()):
        if name not in existing:
            client.create_schedule(**spec)
            changes.append(f"created schedule {name} {spec['ScheduleExpression']} {spec['ScheduleExpressionTimezone']}")
        elif _differs(client.get_schedule(GroupName=s.schedule_group, Name=name), spec):
            client.update_schedule(**spec)
            changes.append(f"updated schedule {name} {spec['ScheduleExpression']} {spec['ScheduleExpressionTimezone']}")
    return changes


def shop_job_name(shop_id: str, job: str = "overdue") -> str:
    return "rwj-" + hashlib.sha256(shop_id.encode()).hexdigest()[:24] + "-" + job


def _shop_jobs(shop: Any) -> dict[str, tuple[str, str] | None]:
    """The shop's daily jobs: name -> (job id for the schedule function, local time), None when not wanted."""
    return {
        "overdue": ("overdue_scan", shop.dunning.run_at) if shop.dunning is not None else None,
        "digest": ("dead_letter_digest", shop.alerts.at) if shop.alerts.dead_letters == "daily" else None,
    }


def sync_shop_schedules(shop: Any) -> list[str]:
    """The shop's daily jobs in its time zone: the overdue scan while it has dunning levels, the owner's
    digest of dead-lettered actions unless switched off. Returns the changes."""
    s = settings()
    jobs = _shop_jobs(shop)
    if not (s.schedule_group and s.schedule_target_arn and s.scheduler_role_arn):
        if jobs["overdue"] is not None:
            raise RuntimeError("SCHEDULE_GROUP, SCHEDULE_TARGET_ARN and SCHEDULER_ROLE_ARN are needed for dunning")
        return []  # a function that does not manage schedules
    client = _scheduler()
    changes = []
    for short, job in jobs.items():
        name = shop_job_name(shop.id, short)
        try:
            current = client.get_schedule(GroupName=s.schedule_group, Name=name)
        except client.exceptions.ResourceNotFoundException:
            current = None
        if job is None:
            if current is not None:
                client.delete_schedule(GroupName=s.schedule_group, Name=name)
                changes.append(f"deleted schedule {name}")
            continue
        kind, at = job
        hour, minute = at.split(":")
        target: dict[str, Any] = {
            "Arn": s.schedule_target_arn,
            "RoleArn": s.scheduler_role_arn,
            "Input": json.dumps({"shop_id": shop.id, "job": kind, "scheduled_time": SCHEDULED_TIME}),
            "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
        }
        if s.schedule_dlq_arn:
            target["DeadLetterConfig"] = {"Arn": s.schedule_dlq_arn}
        spec = {
            "Name": name,
            "GroupName": s.schedule_group,
            "Description": f"{shop.id}: daily {kind}",
            "ScheduleExpression": f"cron({int(minute)} {int(hour)} * * ? *)",
            "ScheduleExpressionTimezone": shop.time_zone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": target,
        }
        if current is None:
            client.create_schedule(**spec)
            changes.append(f"created schedule {name} {spec['ScheduleExpression']} {shop.time_zone}")
        elif _differs(current, spec):
            client.update_schedule(**spec)
            changes.append(f"updated schedule {name} {spec['ScheduleExpression']} {shop.time_zone}")
    return changes
