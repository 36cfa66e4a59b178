"""Is it still right to send? The checks made when an action is due, not when it was planned.

Between planning and sending, the world moves on: an invoice is paid before its reminder goes out,
a rule is disabled while its action waits seven days, an order no longer meets the conditions that
made a rule fire. These checks read the stored records as they are now and say why an action must
not go out (the reason lands in the run log):

* ``held_back``: asked by the delivery ledger before every action is performed (a reminder for an
  invoice paid meanwhile, or moved on to a later dunning level; anything planned for a customer who
  was erased since: ``erased_since``).
* ``decide_release``: asked when a delayed action's schedule fires (the rule deleted or disabled:
  cancelled; ``recheck: true``: the planning version's conditions evaluated again on the stored
  order, customer and invoice).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from ..engine.context import invoice_context, order_context
from ..engine.evaluate import failure_reason
from ..engine.rule import load_rule
from ..model.messages import ActionMessage
from ..store.customers import customer_from_item
from ..store.invoices import invoice_of
from ..store.orders import order_of
from ..store.personal import ERASED_REASON
from ..store.tables import CustomerItem, InvoiceItem, OrderItem, RuleItem, get_or_none

Decision = Literal["go", "cancelled", "skipped"]


# what would reach the person or store their data again: a message to them, their PDF, a task, a webhook
_ABOUT_THE_CUSTOMER = {"pdf", "create_task", "webhook"}


def held_back(msg: ActionMessage) -> str | None:
    """Why this action must not be performed now, or None to go ahead."""
    erased = erased_since(msg)
    if erased:
        return erased
    if msg.event_type == "invoice.overdue":
        return still_due(msg)
    return None


def erased_since(msg: ActionMessage) -> str | None:
    """``the customer was erased`` when the action is about a customer erased after it was planned.

    One read of the customer item, only for actions addressed to the customer or carrying their data out
    (a PDF, a task, a webhook). A customer who ordered again after the erasure has their data anew, and what
    is planned since goes out; what was planned before it never does.
    """
    to_customer = msg.kind in ("email", "sms") and msg.action.get("to", "customer") == "customer"
    if not to_customer and msg.kind not in _ABOUT_THE_CUSTOMER:
        return None
    customer_id = (msg.context.get("customer") or {}).get("id")
    if not customer_id:
        return None
    stored = get_or_none(CustomerItem, msg.shop_id, customer_id)
    if stored is None or not stored.erased_at:
        return None
    planned_before = msg.planned_at is None or msg.planned_at < stored.erased_at
    if planned_before or not json.loads(stored.document).get("email"):
        return ERASED_REASON
    return None


def still_due(msg: ActionMessage) -> str | None:
    """Why an invoice.overdue action must not go out any more (the invoice was paid meanwhile), or None."""
    invoice = msg.context.get("invoice") or {}
    if msg.event_type != "invoice.overdue" or not invoice.get("id"):
        return None
    stored = get_or_none(InvoiceItem, msg.shop_id, invoice["id"])
    if stored is None:
        return None
    if stored.retained_until:
        return f"not sent: the invoice is retained for tax law only (until {stored.retained_until}), {ERASED_REASON}"
    if stored.status != "open":
        return f"not sent: the invoice is {stored.status} now (checked when sending)"
    level = json.loads(stored.document).get("dunning_level", 0)
    planned = (msg.context.get("dunning") or {}).get("level", level)
    if level > planned:
        return f"not sent: the invoice has moved on to dunning level {level}"
    return None


def current_context(msg: ActionMessage) -> dict[str, Any]:
    """The message's context with the order, customer and invoice as they are stored now."""
    ctx = dict(msg.context)
    order = ctx.get("order") or {}
    if order.get("id"):
        item = get_or_none(OrderItem, msg.shop_id, order["id"])
        if item is not None:
            ctx["order"] = order_context(order_of(item))
            customer = get_or_none(CustomerItem, msg.shop_id, item.customer_id)
            if customer is not None:
                ctx["customer"] = customer_from_item(customer).to_context()
    invoice = ctx.get("invoice") or {}
    if invoice.get("id"):
        stored = get_or_none(InvoiceItem, msg.shop_id, invoice["id"])
        if stored is not None:
            ctx["invoice"] = invoice_context(invoice_of(stored))
    return ctx


def decide_release(msg: ActionMessage) -> tuple[Decision, str | None, dict[str, Any]]:
    """A delayed action came due: ('go' | 'cancelled' | 'skipped', the reason or note, the context to send with)."""
    erased = erased_since(msg)
    if erased:
        return "cancelled", erased, msg.context
    planned = msg.rule_version
    live = get_or_none(RuleItem, msg.shop_id, f"rule#{msg.rule_id}")
    if live is None:
        return "cancelled", "the rule was deleted while the action waited", msg.context
    doc = json.loads(live.document)
    if not doc.get("enabled", True):
        return "cancelled", "the rule was disabled while the action waited", msg.context
    note = None
    if int(live.version) != planned:
        note = f"planned by version {planned} of the rule; the rule is now at version {live.version}: sent as planned"
    ctx = msg.context
    if msg.action.get("recheck"):
        version = get_or_none(RuleItem, msg.shop_id, f"version#{msg.rule_id}#{planned:06d}")
        planned_doc = json.loads(version.document) if version is not None else doc
        compiled = load_rule(planned_doc | {"version": planned})
        ctx = current_context(msg)
        if not compiled.condition.matches(ctx):
            return "skipped", "rechecked when due: " + failure_reason(compiled.condition.explain(ctx)), ctx
        note = "rechecked when due: conditions still hold" + (f"; {note}" if note else "")
    return "go", note, ctx
