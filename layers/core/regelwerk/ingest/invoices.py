"""Invoice events in: the canonical invoice JSON, stored, and invoice.sent / invoice.paid for the rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError
from pynamodb.transactions import TransactGet

from ..clients import connection
from ..engine.context import invoice_context, rule_context
from ..engine.evaluate import RuleOutcome, article_results, evaluate
from ..errors import InvalidInput, pydantic_problems
from ..model.invoice import Invoice
from ..model.shop import Shop
from ..model.values import STRICT
from ..store.customers import customer_from_item
from ..store.invoices import invoice_of, mark_open
from ..store.orders import order_of
from ..store.rules import load_rules
from ..store.tables import CustomerItem, InvoiceItem, OrderItem, RunItem, found, get_or_none
from .adapters.body import parse_json
from .run_writer import MAX_ATTEMPTS, IngestResult, backoff, commit_run, resume


class InvoiceEvent(BaseModel):
    model_config = STRICT

    event_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    invoice: Invoice


def parse_invoice_event(raw: bytes) -> InvoiceEvent:
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise InvalidInput("the body must be a JSON object", [])
    try:
        return InvoiceEvent.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput("invalid invoice event", pydantic_problems(exc)) from exc


def derive_invoice_events(previous: Invoice | None, invoice: Invoice) -> list[str]:
    events = []
    if previous is None and invoice.status in ("open", "paid"):
        events.append("invoice.sent")
    if invoice.status == "paid" and (previous is None or previous.status != "paid"):
        events.append("invoice.paid")
    return events


# how far along an invoice is: an out-of-order event never moves it back
_STAGE = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3, "cancelled": 3}


def reconcile(previous: Invoice | None, incoming: Invoice, *, keep_later_status: bool = False) -> Invoice:
    """The invoice to store, given the stored one and an event's."""
    if previous is None:
        return incoming
    if keep_later_status and _STAGE[previous.status] > _STAGE[incoming.status]:
        return previous
    if incoming.dunning_level < previous.dunning_level:  # the sender knows nothing of Regelwerk's dunning
        return incoming.model_copy(update={"dunning_level": previous.dunning_level})
    return incoming


def process_invoice(
    shop: Shop,
    incoming: Invoice,
    *,
    event_id: str,
    platform: str = "regelwerk",
    received_at: datetime | None = None,
    events: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    keep_later_status: bool = False,
    event_fields: dict[str, Any] | None = None,
) -> IngestResult:
    """Run one invoice event through the shop's rules. Safe to call again with the same event id.

    ``events``: the trigger events to emit instead of those the change shows (the dunning scan's
    ``invoice.overdue``); ``extra``: more context for the rules (``dunning``); ``event_fields``: more
    of the event itself (``event.refund`` of ``invoice.refunded``). ``keep_later_status``: a
    sender that delivers out of order (Stripe): an event older than the stored state (open after paid)
    does not move the invoice back. Either way the dunning level Regelwerk reached is kept. Both are
    decided on the invoice read in this attempt, so a concurrent change makes the attempt repeat.
    """
    received_at = received_at or datetime.now(UTC)
    suppressed: dict[str, str] = {}
    for attempt in range(MAX_ATTEMPTS):
        backoff(attempt)
        with TransactGet(connection=connection()) as tg:
            f_invoice = tg.get(InvoiceItem, shop.id, incoming.id)
            f_run = tg.get(RunItem, shop.id, event_id)
        stored = found(f_invoice)
        run = found(f_run)
        if run is not None:
            return resume(run, event_id)
        previous = invoice_of(stored) if stored else None
        invoice = reconcile(previous, incoming, keep_later_status=keep_later_status)
        emitted = events if events is not None else derive_invoice_events(previous, invoice)
        customer = order = None
        if invoice.customer_id:
            customer_item = get_or_none(CustomerItem, shop.id, invoice.customer_id)
            customer = customer_from_item(customer_item) if customer_item else None
        if invoice.order_id:
            order_item = get_or_none(OrderItem, shop.id, invoice.order_id)
            order = order_of(order_item) if order_item else None
        rules = load_rules(shop.id)
        base = rule_context(shop, order=order, customer=customer, invoice=invoice_context(invoice)) | (extra or {})
        results: list[tuple[str, dict[str, Any], list[RuleOutcome]]] = []
        for event_type in emitted:
            event = {
                "id": event_id,
                "type": event_type,
                "received_at": received_at.isoformat(),
                "platform": platform,
                "status": invoice.status,
                "previous_status": previous.status if previous else None,
            } | (event_fields or {})
            ctx = base | {"event": event}
            results.append((event_type, ctx, evaluate(rules, event_type, ctx, event_id)))
            if event_type == "invoice.sent" and order is not None:  # once per line item of the invoiced order
                results.extend(article_results("article.invoiced", ctx["order"]["line_items"], rules, ctx, event_id))
        invoice_item = stored or InvoiceItem(shop.id, invoice.id)
        mark_open(invoice_item, invoice)
        result = commit_run(
            shop,
            run_id=event_id,
            platform=platform,
            received_at=received_at,
            results=results,
            rules=rules,
            customer_id=invoice.customer_id,
            subject={"invoice_id": invoice.id, "invoice_number": invoice.number, "order_id": invoice.order_id},
            writes=[lambda tx, item=invoice_item: tx.save(item)],  # type: ignore[misc]  # mypy cannot infer lambdas with default args
            note=None if emitted else "invoice unchanged for the rules: no trigger event",
            suppressed=suppressed,
        )
        if result is not None:
            return result
    raise RuntimeError("invoice event could not be applied after several attempts")


SUBSCRIPTION_EVENTS = ("subscription.started", "subscription.cancelled")


def process_subscription_event(
    shop: Shop,
    subscription: dict[str, Any],
    event_type: str,
    *,
    event_id: str,
    platform: str = "stripe",
    received_at: datetime | None = None,
) -> IngestResult:
    """Run one subscription event (``subscription.started`` / ``subscription.cancelled``) through the
    shop's rules. Safe to call again with the same event id; nothing but the run is stored.

    Rules see ``subscription`` as the adapter reads it (``id``, ``customer_id``, ``status``, ``plan``,
    ``price_id``, ``amount``, ``current_period_end``, ...; see fields.py) and ``event.status``, the
    subscription's status. ``customer`` is empty: the platform's customer id is not the shop's.
    """
    if event_type not in SUBSCRIPTION_EVENTS:
        raise ValueError(f"not a subscription event: {event_type!r}")
    received_at = received_at or datetime.now(UTC)
    suppressed: dict[str, str] = {}
    for attempt in range(MAX_ATTEMPTS):
        backoff(attempt)
        run = get_or_none(RunItem, shop.id, event_id)
        if run is not None:
            return resume(run, event_id)
        rules = load_rules(shop.id)
        event = {
            "id": event_id,
            "type": event_type,
            "received_at": received_at.isoformat(),
            "platform": platform,
            "status": subscription.get("status"),
            "previous_status": None,
        }
        ctx = rule_context(shop) | {"subscription": subscription, "event": event}
        result = commit_run(
            shop,
            run_id=event_id,
            platform=platform,
            received_at=received_at,
            results=[(event_type, ctx, evaluate(rules, event_type, ctx, event_id))],
            rules=rules,
            customer_id=None,
            subject={"subscription_id": subscription["id"]},
            writes=[],
            note=None,
            suppressed=suppressed,
        )
        if result is not None:
            return result
    raise RuntimeError("subscription event could not be applied after several attempts")
