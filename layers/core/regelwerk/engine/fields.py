"""The fields a condition can test: paths over the canonical context, each with its kind.

The context a rule sees has five parts: ``order``, ``customer``, ``invoice``, ``shop`` and
``event`` (plus ``previous.order``, the order as it was before this event, and ``subscription``
on subscription events). Each leaf has a kind, which decides the operators it allows and how a
condition's value is read.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from pydantic import BaseModel

from ..model.customer import Customer
from ..model.invoice import Invoice
from ..model.order import Order

KINDS = ("string", "integer", "decimal", "money", "datetime", "boolean", "list", "any")

_MONEY_FIELDS = {
    "total",
    "subtotal",
    "shipping_total",
    "shipping_tax",
    "fee_total",
    "discount_total",
    "tax_total",
    "unit_price",
    "amount",
    "amount_due",
    "amount_paid",
    "amount_refunded",
    "fee",
    "total_spent",
    "refunded_total",
    "net_total",
}


def _kind_of(name: str, annotation: object) -> str | type[BaseModel]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _kind_of(name, args[0]) if args else "any"
    if origin is typing.Annotated:
        return _kind_of(name, typing.get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset):
        return "list"
    if getattr(annotation, "__name__", "") in ("AwareDatetime", "NaiveDatetime", "FutureDatetime", "PastDatetime"):
        return "datetime"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return annotation
        if issubclass(annotation, bool):
            return "boolean"
        if issubclass(annotation, int):
            return "integer"
        if issubclass(annotation, Decimal):
            return "money" if name in _MONEY_FIELDS else "decimal"
        if issubclass(annotation, datetime):
            return "datetime"
        if issubclass(annotation, str):
            return "string"
    if origin is typing.Literal:
        return "string"
    return "any"


def _walk(prefix: str, model: type[BaseModel], out: dict[str, str]) -> None:
    for name, info in model.model_fields.items():
        kind = _kind_of(name, info.annotation)
        path = f"{prefix}.{name}"
        if isinstance(kind, type):
            _walk(path, kind, out)
        else:
            out[path] = kind


# subscription.started / subscription.cancelled: the subscription as the Stripe adapter reads it
_SUBSCRIPTION = {
    "subscription.id": "string",
    "subscription.customer_id": "string",
    "subscription.status": "string",
    "subscription.plan": "string",
    "subscription.price_id": "string",
    "subscription.product_id": "string",
    "subscription.interval": "string",
    "subscription.interval_count": "integer",
    "subscription.quantity": "integer",
    "subscription.amount": "money",
    "subscription.currency": "string",
    "subscription.started_at": "datetime",
    "subscription.current_period_end": "datetime",
    "subscription.trial_end": "datetime",
    "subscription.cancel_at_period_end": "boolean",
    "subscription.canceled_at": "datetime",
    "subscription.ended_at": "datetime",
    "subscription.cancellation_reason": "string",
}


@lru_cache(maxsize=1)
def field_kinds() -> dict[str, str]:
    """Every known field path and its kind."""

    out: dict[str, str] = {}
    _walk("order", Order, out)
    out.update({"order.line_items": "list", "order.item_count": "decimal", "order.skus": "list"})
    out["order.order_discount"] = "money"  # the discounts not taken off a line (engine/context.py)
    # refunds: what was given back, and what the customer paid and kept paid
    out.update({"order.refunded_total": "money", "order.net_total": "money"})
    _walk("customer", Customer, out)
    _walk("invoice", Invoice, out)
    out.update(
        {
            "shop.id": "string",
            "shop.name": "string",
            "shop.time_zone": "string",
            "shop.locale": "string",
            "shop.currency": "string",
            "shop.language": "string",
            "event.id": "string",
            "event.type": "string",
            "event.received_at": "datetime",
            "event.status": "string",
            "event.previous_status": "string",
            "event.sku": "string",
            "event.quantity": "decimal",
            # order.refunded: the refund this event is about
            "event.refund.id": "string",
            "event.refund.amount": "money",
            "event.refund.reason": "string",
            "event.refund.created_at": "datetime",
            "event.refund.lines": "list",
            "event.refund.full": "boolean",
            "line_item.sku": "string",
            "line_item.name": "string",
            "line_item.quantity": "decimal",
            "line_item.unit": "string",
            "line_item.total": "money",
            "line_item.tax_rate": "decimal",
            "event.platform": "string",
            "event.topic": "string",
            "event.schedule_slot": "string",
            # invoice.overdue: the dunning step reached (ingest/dunning.py)
            "dunning.level": "integer",
            "dunning.name": "string",
            "dunning.fee": "decimal",
            "dunning.after_days": "integer",
            "dunning.days_overdue": "integer",
        }
    )
    out.update(_SUBSCRIPTION)
    for path, kind in list(out.items()):
        if path.startswith("order."):
            out["previous." + path] = kind
    return out


def kind_of(path: str) -> str | None:
    """The kind of a field path, or None if no such field exists."""
    kinds = field_kinds()
    if path in kinds:
        return kinds[path]
    # the original platform body is kept as-is: any path below it is allowed
    if path.startswith(("order.raw.", "event.raw.")):
        return "any"
    if path.startswith("subscription.metadata.") and len(path) > len("subscription.metadata."):
        return "string"  # Stripe's metadata: the shop's own keys, string values
    # money spent per currency: customer.total_spent.EUR
    if path.startswith("customer.total_spent.") and len(path) == len("customer.total_spent.") + 3:
        return "decimal"
    return None
