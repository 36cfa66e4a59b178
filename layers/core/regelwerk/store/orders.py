"""Orders as stored: the canonical order (``document``) beside the attributes the indexes read."""

from __future__ import annotations

from ..model.order import Order
from .tables import OrderItem, get_or_none


def order_of(item: OrderItem) -> Order:
    """The canonical order an item holds (stored orders were validated when they came in)."""
    return Order.model_validate_json(item.document)


def load_order(shop_id: str, order_id: str) -> Order | None:
    """The stored order, read consistently, or None."""
    item = get_or_none(OrderItem, shop_id, order_id)
    return order_of(item) if item is not None else None
