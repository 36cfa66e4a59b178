"""Delayed actions beyond SQS's 15 minutes ("7d after shipping"): one EventBridge Scheduler schedule each.

**Plan.** ``queue.send`` hands an action whose delay is longer than 15 minutes to ``schedule``: the
whole queue message is kept in the idempotency table (``delayed#<action id>``, state ``scheduled``)
and a one-time schedule ``at(<due>)`` is created whose target is the actions queue, with a small
pointer as its input. Both are keyed on the action id, so planning again (a retried event) changes
nothing. Nothing polls a table: Scheduler holds the pending actions (a million per account by
default, raisable) and fires each once, deleting the schedule after it ran.

**Fire.** The actions handler reads the pointer (``release``): if the rule was deleted or disabled
meanwhile, the action is cancelled; if it was edited, the action still goes out as planned and the
run log says which version planned it; with ``recheck: true`` the rule's conditions (of the planned
version) are evaluated again on the order and customer as they are now. Then the message goes to
its queue without the delay, and the usual delivery ledger sends it exactly once.

**Cancel.** Disabling or deleting a rule deletes its pending schedules and marks their actions
cancelled in the run log (``cancel_rule``). A schedule that fires during that race still finds the
rule disabled and cancels itself.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from .observability import logger
from .rule import SQS_MAX_DELAY, parse_duration
from .settings import settings
from .store.tables import LedgerItem

PREFIX = "rwd-"
KEEP_AFTER_DUE = timedelta(days=14)  # the stored message outlives Scheduler's retries (a day at most)
_client: Any = None


def _scheduler() -> Any:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("scheduler", region_name=settings().aws_region)
    return _client


def delay_of(body: dict[str, Any]) -> timedelta | None:
    delay = (body.get("action") or {}).get("delay")
    return parse_duration(delay) if delay else None


def is_long(body: dict[str, Any]) -> bool:
    """Whether a message's delay needs a schedule (longer than SQS's DelaySeconds can hold)."""
    delay = delay_of(body)
    return delay is not None and delay > SQS_MAX_DELAY


def rule_prefix(shop_id: str, rule_id: str) -> str:
    return PREFIX + hashlib.sha256(f"{shop_id}\x1f{rule_id}".encode()).hexdigest()[:24] + "-"


def schedule_name(body: dict[str, Any]) -> str:
    """At most 64 characters, as Scheduler requires; the rule's prefix lets ``cancel_rule`` find them."""
    action = hashlib.sha256(body["action_id"].encode()).hexdigest()[:24]
    return rule_prefix(body["shop_id"], body["rule_id"]) + action


def due_at(body: dict[str, Any], now: datetime | None = None) -> datetime:
    """When a delayed action is due: its delay after it was first planned (stable across retries)."""
    planned = body.get("planned_at")
    start = datetime.fromisoformat(planned) if planned else (now or datetime.now(UTC))
    delay = delay_of(body) or timedelta(0)
    return (start + delay).astimezone(UTC).replace(microsecond=0)


def schedule(queue_name: str, body: dict[str, Any], now: datetime | None = None) -> datetime:
    """Keep the message and create its one-time schedule. Idempotent. Returns when it is due."""
    from . import queue

    s = settings()
    missing = [n for n in ("schedule_group", "actions_queue_arn", "delay_role_arn") if not getattr(s, n)]
    if missing:
        raise RuntimeError(
            f"{', '.join(m.upper() for m in missing)} not configured: cannot delay action {body['action_id']}"
        )
    now = now or datetime.now(UTC)
    body = {"planned_at": now.isoformat()} | body
    due = due_at(body, now)
    pointer = {"delayed": body["action_id"], "shop_id": body["shop_id"], "run_id": body["run_id"]}
    LedgerItem(
        f"delayed#{body['action_id']}",
        status="scheduled",
        expiration=due + KEEP_AFTER_DUE,
        updated_at=now.isoformat(),
        detail=queue.dumps({"queue": queue_name, "due": due.isoformat(), "message": body}),
    ).save(condition=LedgerItem.id.does_not_exist() | (LedgerItem.status == "scheduled"))
    target: dict[str, Any] = {
        "Arn": s.actions_queue_arn,
        "RoleArn": s.delay_role_arn,
        "Input": json.dumps(pointer),
        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
    }
    if s.schedule_dlq_arn:
        target["DeadLetterConfig"] = {"Arn": s.schedule_dlq_arn}
    client = _scheduler()
    try:
        client.create_schedule(
            Name=schedule_name(body),
            GroupName=s.schedule_group,
            Description=f"{body['shop_id']}/{body['rule_id']} {body['action'].get('type')} due {due.isoformat()}",
            ScheduleExpression=f"at({due:%Y-%m-%dT%H:%M:%S})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
            ActionAfterCompletion="DELETE",
        )
    except client.exceptions.ConflictException:
        pass  # planned before (a retried event): the schedule is already there
    return due


def _mark(action_id: str, status: str) -> bool:
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


def _stored(action_id: str) -> tuple[LedgerItem, dict[str, Any]] | None:
    try:
        item = LedgerItem.get(f"delayed#{action_id}", consistent_read=True)
    except LedgerItem.DoesNotExist:
        return None
    return item, json.loads(item.detail or "{}")


def _current_context(msg: dict[str, Any]) -> dict[str, Any]:
    """The message's context with the order, customer and invoice as they are stored now."""
    from .invoice import Invoice
    from .invoices import invoice_context
    from .order import Order
    from .store.customers import customer_from_item
    from .store.tables import CustomerItem, InvoiceItem, OrderItem

    ctx = dict(msg["context"])
    shop_id = msg["shop_id"]
    order = ctx.get("order") or {}
    if order.get("id"):
        try:
            item = OrderItem.get(shop_id, order["id"], consistent_read=True)
            ctx["order"] = Order.model_validate_json(item.document).to_context()
            customer_id = item.customer_id
            ctx["customer"] = customer_from_item(CustomerItem.get(shop_id, customer_id)).to_context()
        except (OrderItem.DoesNotExist, CustomerItem.DoesNotExist):
            pass
    invoice = ctx.get("invoice") or {}
    if invoice.get("id"):
        try:
            stored = InvoiceItem.get(shop_id, invoice["id"], consistent_read=True)
            ctx["invoice"] = invoice_context(Invoice.model_validate_json(stored.document))
        except InvoiceItem.DoesNotExist:
            pass
    return ctx


def _decide(msg: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """('go' | 'cancelled' | 'skipped', reason or note, context to send with)."""
    from .engine import failure_reason
    from .rule import load_rule
    from .store.tables import RuleItem

    shop_id, rule_id, planned = msg["shop_id"], msg["rule_id"], int(msg["rule_version"])
    try:
        live = RuleItem.get(shop_id, f"rule#{rule_id}", consistent_read=True)
    except RuleItem.DoesNotExist:
        return "cancelled", "the rule was deleted while the action waited", msg["context"]
    doc = json.loads(live.document)
    if not doc.get("enabled", True):
        return "cancelled", "the rule was disabled while the action waited", msg["context"]
    note = None
    if int(live.version) != planned:
        note = f"planned by version {planned} of the rule; the rule is now at version {live.version}: sent as planned"
    ctx = msg["context"]
    if msg["action"].get("recheck"):
        try:
            planned_doc = json.loads(RuleItem.get(shop_id, f"version#{rule_id}#{planned:06d}").document)
        except RuleItem.DoesNotExist:
            planned_doc = doc
        compiled = load_rule(planned_doc | {"version": planned})
        ctx = _current_context(msg)
        if not compiled.condition.matches(ctx):
            return "skipped", "rechecked when due: " + failure_reason(compiled.condition.explain(ctx)), ctx
        note = "rechecked when due: conditions still hold" + (f"; {note}" if note else "")
    return "go", note, ctx


def release(pointer: dict[str, Any]) -> str:
    """A delayed action's schedule fired: send it on to its queue, or record why not. Idempotent."""
    from . import queue
    from .delivery import record

    action_id = pointer["delayed"]
    found = _stored(action_id)
    if found is None:
        logger.warning("delayed action not found", extra={"action_id": action_id})
        return "unknown"
    item, stored = found
    if item.status != "scheduled":
        return item.status  # released before (Scheduler delivers at least once) or cancelled
    msg = stored["message"]
    decision, reason, ctx = _decide(msg)
    if decision != "go":
        if _mark(action_id, decision):
            record(msg, decision, reason=reason)
        return decision
    action = {k: v for k, v in msg["action"].items() if k != "delay"}
    ready = msg | {"action": action, "context": ctx, "delayed_from": stored.get("due"), "release_note": reason}
    queue.send([(stored["queue"], ready)])  # a second copy (crash before _mark) is deduplicated on the action id
    if _mark(action_id, "released"):
        record(msg, "queued", note=reason, due=stored.get("due"))
    return "released"


def cancel_rule(shop_id: str, rule_id: str, reason: str) -> int:
    """Delete a rule's pending delayed actions (the rule was disabled or deleted). Returns how many."""
    from .delivery import record

    s = settings()
    if not s.schedule_group:
        return 0
    client = _scheduler()
    names: list[str] = []
    for page in client.get_paginator("list_schedules").paginate(
        GroupName=s.schedule_group, NamePrefix=rule_prefix(shop_id, rule_id)
    ):
        names.extend(item["Name"] for item in page["Schedules"])
    cancelled = 0
    for name in names:
        try:
            spec = client.get_schedule(GroupName=s.schedule_group, Name=name)
            client.delete_schedule(GroupName=s.schedule_group, Name=name)
        except client.exceptions.ResourceNotFoundException:
            continue  # fired or deleted meanwhile
        pointer = json.loads(spec["Target"].get("Input") or "{}")
        found = _stored(pointer.get("delayed", ""))
        if found and _mark(pointer["delayed"], "cancelled"):
            record(found[1]["message"], "cancelled", reason=reason)
            cancelled += 1
    return cancelled
