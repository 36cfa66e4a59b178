"""Invoice events in: the canonical invoice JSON, stored, and invoice.sent / invoice.paid for the rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError
from pynamodb.transactions import TransactGet

from .context import rule_context
from .engine import RuleOutcome, evaluate
from .errors import InvalidInput, pydantic_problems
from .ingest import (
    _MAX_ATTEMPTS,
    IngestResult,
    _backoff,
    _maybe,
    _maybe_get,
    _resume,
    commit_run,
    parse_json,
)
from .invoice import Invoice
from .money import Money
from .order import Order
from .shop import Shop
from .store.customers import customer_from_item
from .store.rules import load_rules
from .store.tables import CustomerItem, InvoiceItem, OrderItem, RunItem, connection
from .values import STRICT


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


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    data = invoice.model_dump(mode="json")
    for key in ("amount", "amount_paid"):
        value = getattr(invoice, key)
        data[key] = None if value is None else Money(value, invoice.currency).as_dict()
    return data


def derive_invoice_events(previous: Invoice | None, invoice: Invoice) -> list[str]:
    events = []
    if previous is None and invoice.status in ("open", "paid"):
        events.append("invoice.sent")
    if invoice.status == "paid" and (previous is None or previous.status != "paid"):
        events.append("invoice.paid")
    return events


def process_invoice(
    shop: Shop, invoice: Invoice, *, event_id: str, platform: str = "regelwerk", received_at: datetime | None = None
) -> IngestResult:
    """Run one invoice event through the shop's rules. Safe to call again with the same event id."""
    received_at = received_at or datetime.now(UTC)
    suppressed: dict[str, str] = {}
    for attempt in range(_MAX_ATTEMPTS):
        _backoff(attempt)
        with TransactGet(connection=connection()) as tg:
            f_invoice = tg.get(InvoiceItem, shop.id, invoice.id)
            f_run = tg.get(RunItem, shop.id, event_id)
        stored = _maybe(f_invoice)
        run = _maybe(f_run)
        if run is not None:
            return _resume(run, event_id)
        previous = Invoice.model_validate_json(stored.document) if stored else None
        events = derive_invoice_events(previous, invoice)
        customer = order = None
        if invoice.customer_id:
            item = _maybe_get(CustomerItem, shop.id, invoice.customer_id)
            customer = customer_from_item(item) if item else None
        if invoice.order_id:
            item = _maybe_get(OrderItem, shop.id, invoice.order_id)
            order = Order.model_validate_json(item.document) if item else None
        rules = load_rules(shop.id)
        base = rule_context(shop, order=order, customer=customer, invoice=invoice_context(invoice))
        results: list[tuple[str, dict[str, Any], list[RuleOutcome]]] = []
        for event_type in events:
            event = {
                "id": event_id,
                "type": event_type,
                "received_at": received_at.isoformat(),
                "platform": platform,
                "status": invoice.status,
                "previous_status": previous.status if previous else None,
            }
            ctx = base | {"event": event}
            results.append((event_type, ctx, evaluate(rules, event_type, ctx, event_id)))
        item = stored or InvoiceItem(shop.id, invoice.id)
        item.status = invoice.status
        item.document = invoice.model_dump_json()
        result = commit_run(
            shop,
            run_id=event_id,
            platform=platform,
            received_at=received_at,
            results=results,
            rules=rules,
            customer_id=invoice.customer_id,
            subject={"invoice_id": invoice.id, "invoice_number": invoice.number, "order_id": invoice.order_id},
            writes=[lambda tx, item=item: tx.save(item)],
            note=None if events else "invoice unchanged for the rules: no trigger event",
            suppressed=suppressed,
        )
        if result is not None:
            return result
    raise RuntimeError("invoice event could not be applied after several attempts")
