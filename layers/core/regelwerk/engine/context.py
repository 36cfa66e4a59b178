"""The context a rule sees: one shape for every event (order, invoice, schedule, dry run)."""

from __future__ import annotations

from typing import Any

from ..model.customer import Customer
from ..model.invoice import Invoice
from ..model.money import Money
from ..model.order import Order
from ..model.shop import Shop


def rule_context(
    shop: Shop,
    *,
    order: Order | None = None,
    customer: Customer | None = None,
    previous: Order | None = None,
    invoice: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``shop``, ``order``, ``customer``, ``invoice`` and ``previous.order`` as conditions and templates
    read them (money as {amount, currency}, times as ISO strings); the caller adds ``event``."""
    return {
        "shop": shop.to_context(),
        "order": order_context(order) if order else None,
        "customer": customer.to_context() if customer else None,
        "previous": {"order": order_context(previous)} if previous else None,
        "invoice": invoice,
    }


def order_context(order: Order) -> dict[str, Any]:
    """The order as rules and templates read it, with ``order_discount``: the discounts not already
    taken off a line's total, so a message listing lines, shipping, fees and that discount adds up
    to ``total`` (``discount_total`` counts the lines' discounts too)."""
    data = order.to_context()
    outside_lines = (order.discount_total or 0) - order.line_discounts()
    data["order_discount"] = Money(outside_lines, order.currency).as_dict() if outside_lines > 0 else None
    return data


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """The invoice as rules and templates read it: amounts as {amount, currency}."""
    data = invoice.model_dump(mode="json")
    for key in ("amount", "amount_paid"):
        value = getattr(invoice, key)
        data[key] = None if value is None else Money(value, invoice.currency).as_dict()
    return data
