"""Regelwerk's own canonical order event, ``{"event_id"?, "order": {...}}`` (see events/demo/)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from ...errors import InvalidInput, Problem, pydantic_problems
from ...model.money import minor_units
from ...model.order import Order, OrderEvent
from ...model.shop import Shop
from . import Delivery, by_api_key
from .body import parse_json


def parse_order_event(raw: bytes) -> OrderEvent:
    """The canonical order event from raw bytes: 400 for broken JSON, 413 when too big, 422 naming each field."""
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise InvalidInput("the body must be a JSON object", [])
    try:
        event = OrderEvent.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput("invalid order event", pydantic_problems(exc)) from exc
    problems = _finer_than_currency(event.order)
    if problems:
        raise InvalidInput("invalid order event", problems)
    return event


_ORDER_AMOUNTS = ("total", "subtotal", "shipping_total", "shipping_tax", "fee_total", "discount_total", "tax_total")


def _finer_than_currency(order: Order) -> list[Problem]:
    """Order-level amounts with more decimals than the currency has (12.345 EUR): a charged amount
    is in the currency's minor unit. Line unit prices may be finer (3.225 for 2 at 6.45)."""
    places = minor_units(order.currency)
    problems = []
    for key in _ORDER_AMOUNTS:
        value = getattr(order, key)
        if value is not None and value.as_tuple().exponent < -places:
            problems.append(Problem(f"$.order.{key}", f"{value} has more than {places} decimals for {order.currency}"))
    for i, item in enumerate(order.line_items):
        for key in ("total", "discount", "tax"):
            value = getattr(item, key)
            if value is not None and value.as_tuple().exponent < -places:
                problems.append(
                    Problem(
                        f"$.order.line_items[{i}].{key}",
                        f"{value} has more than {places} decimals for {order.currency}",
                    )
                )
    return problems


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    return by_api_key(shop_id, headers)


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery:
    event = parse_order_event(raw)
    return Delivery(order=event.order, delivery_key=headers.get("idempotency-key") or event.event_id)
