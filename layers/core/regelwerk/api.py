"""What the public HTTP routes do, independent of API Gateway's event format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .ingest import IngestResult, event_id_for, process_order
from .store.shops import authenticate

if TYPE_CHECKING:
    from .adapters import Ping


def receive_event(
    shop_id: str, platform: str, headers: dict[str, str], raw: bytes, *, now: datetime | None = None
) -> IngestResult | Ping:
    """POST /v1/shops/{shop}/events/{platform}: authenticate, read the platform's body, process once.

    Unknown platform 404; missing or wrong key or signature 401 (before anything is read);
    a body that is not the platform's order 422 naming the fields; nothing is written then.
    """
    from .adapters import Ping, adapter_for

    adapter = adapter_for(platform)
    lower = {k.lower(): v for k, v in headers.items()}
    shop = adapter.authenticate(shop_id, lower, raw, now or datetime.now(UTC))
    delivery = adapter.parse(shop, lower, raw)
    if isinstance(delivery, Ping):
        return delivery
    event_id = event_id_for(shop.id, platform, delivery.delivery_key, raw)
    return process_order(
        shop, delivery.order, event_id=event_id, platform=platform, raw=delivery.raw, topic=delivery.topic
    )


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


def raw_body(body: str | None, is_base64_encoded: bool) -> bytes:
    """The request body as the exact bytes sent: API Gateway base64-encodes binary bodies."""
    import base64

    return base64.b64decode(body or "") if is_base64_encoded else (body or "").encode()
