"""Regelwerk's own canonical order event, ``{"event_id"?, "order": {...}}`` (see events/demo/)."""

from __future__ import annotations

from datetime import datetime

from ..ingest import parse_order_event
from ..shop import Shop
from . import Delivery, by_api_key


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    return by_api_key(shop_id, headers)


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery:
    event = parse_order_event(raw)
    return Delivery(order=event.order, delivery_key=headers.get("idempotency-key") or event.event_id)
