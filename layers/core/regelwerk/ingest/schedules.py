"""Scheduled rules: one run per rule and schedule slot, invoked by EventBridge Scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

from ..engine.context import rule_context
from ..engine.evaluate import evaluate
from ..errors import NotFound
from ..store.rules import load_rules
from ..store.shops import get_shop
from ..store.tables import RunItem, get_or_none
from .run_writer import IngestResult, commit_run, event_id_for, resume
from .selections import start


def run_scheduled_rule(shop_id: str, rule_id: str, slot: str, now: datetime | None = None) -> IngestResult:
    """Run a shop's scheduled rule for one slot (e.g. ``2026-12-01T08:00+01:00``).

    The slot is part of the event id, so a retried or doubled invocation for the same slot
    finds its run and does nothing again.
    """
    now = now or datetime.now(UTC)
    shop = get_shop(shop_id)
    event_id = event_id_for(shop_id, "schedule", f"{rule_id}@{slot}", b"")
    existing = get_or_none(RunItem, shop_id, event_id)
    if existing is not None:
        return resume(existing, event_id)
    rules = [c for c in load_rules(shop_id) if c.rule.id == rule_id]
    if not rules:
        raise NotFound(f"shop {shop_id!r} has no rule {rule_id!r}")
    rule = rules[0].rule
    if rule.over and rule.enabled:  # a selection: fanned out through the actions queue (selections.py)
        # windows ("last_month") count from the slot, the time the run stands for, not from when it ran
        slot_time = datetime.fromisoformat(slot.replace("Z", "+00:00"))
        start(
            shop_id,
            rule_id,
            of=rule.over,
            window=rule.window,
            ids=None,
            event_type="schedule",
            run_id=event_id,
            now=slot_time,
            slot=slot,
        )
        return IngestResult(
            event_id, event_id, events=["schedule"], fired=[rule_id], note=f"selection over {rule.over}"
        )
    ctx = rule_context(shop) | {
        "event": {
            "id": event_id,
            "type": "schedule",
            "received_at": now.isoformat(),
            "platform": "schedule",
            "schedule_slot": slot,
        },
    }
    results = [("schedule", ctx, evaluate(rules, "schedule", ctx, event_id))]
    result = commit_run(
        shop,
        run_id=event_id,
        platform="schedule",
        received_at=now,
        results=results,
        rules=rules,
        customer_id=None,
        subject={"rule_id": rule_id, "slot": slot},
        writes=[],
        note=None,
        suppressed={},
    )
    if result is None:  # pragma: no cover - no records or limits involved, so no retry is needed
        raise RuntimeError("scheduled run could not be written")
    return result
