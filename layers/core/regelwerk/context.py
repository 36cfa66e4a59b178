"""The context a rule sees: one shape for every event (order, invoice, schedule, dry run)."""

from __future__ import annotations

from typing import Any

from .customer import Customer
from .order import Order
from .shop import Shop


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
        "order": order.to_context() if order else None,
        "customer": customer.to_context() if customer else None,
        "previous": {"order": previous.to_context()} if previous else None,
        "invoice": invoice,
    }
