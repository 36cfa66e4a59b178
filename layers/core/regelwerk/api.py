"""What the public HTTP routes do, independent of API Gateway's event format."""

from __future__ import annotations

from typing import Any

from .errors import NotFound
from .ingest import IngestResult, event_id_for, parse_order_event, process_order
from .store.shops import authenticate

PLATFORMS = ("regelwerk",)


def receive_event(shop_id: str, platform: str, headers: dict[str, str], raw: bytes) -> IngestResult:
    """POST /v1/shops/{shop}/events/{platform}: authenticate, parse, process once."""
    if platform not in PLATFORMS:
        raise NotFound(f"unknown platform {platform!r}; supported: {', '.join(PLATFORMS)}")
    lower = {k.lower(): v for k, v in headers.items()}
    shop = authenticate(shop_id, lower.get("authorization"), scope="ingest")
    event = parse_order_event(raw)
    delivery_key = lower.get("idempotency-key") or event.event_id
    event_id = event_id_for(shop.id, platform, delivery_key, raw)
    return process_order(shop, event.order, event_id=event_id, platform=platform)


def receive_invoice_event(shop_id: str, headers: dict[str, str], raw: bytes) -> IngestResult:
    """POST /v1/shops/{shop}/invoices/events: the canonical invoice event."""
    from .invoices import parse_invoice_event, process_invoice

    lower = {k.lower(): v for k, v in headers.items()}
    shop = authenticate(shop_id, lower.get("authorization"), scope="ingest")
    event = parse_invoice_event(raw)
    event_id = event_id_for(shop.id, "invoice", lower.get("idempotency-key") or event.event_id, raw)
    return process_invoice(shop, event.invoice, event_id=event_id)


def health() -> dict[str, Any]:
    from . import __version__

    return {"status": "ok", "version": __version__}
