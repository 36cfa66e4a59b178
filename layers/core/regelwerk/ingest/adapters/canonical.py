"""Regelwerk's own canonical order event, ``{"event_id"?, "order": {...}}`` (see events/demo/)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from ...errors import InvalidInput, pydantic_problems
from ...model.order import OrderEvent
from ...model.shop import Shop
from . import Delivery, by_api_key
from .body import parse_json


def parse_order_event(raw: bytes) -> OrderEvent:
    """The canonical order event from raw bytes: 400 for broken JSON, 413 when too big, 422 naming each field."""
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise InvalidInput("the body must be a JSON object", [])
    try:
        return OrderEvent.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput("invalid order event", pydantic_problems(exc)) from exc


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    return by_api_key(shop_id, headers)


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery:
    event = parse_order_event(raw)
    return Delivery(order=event.order, delivery_key=headers.get("idempotency-key") or event.event_id)
