"""What the public HTTP routes do, independent of API Gateway's event format."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..store.invoices import load_invoice
from ..store.shops import authenticate
from .adapters import Ping, Skipped, adapter_for, stripe
from .adapters.body import parse_json
from .invoices import parse_invoice_event, process_invoice, process_subscription_event
from .orders import process_order
from .run_writer import IngestResult, event_id_for

if TYPE_CHECKING:
    from ..model.shop import Shop
    from .adapters import Ping, Skipped
    from .adapters.stripe import Ignored


def receive_event(
    shop_id: str, platform: str, headers: dict[str, str], raw: bytes, *, now: datetime | None = None
) -> IngestResult | Ping | Skipped:
    """POST /v1/shops/{shop}/events/{platform}: authenticate, read the platform's body, process once.

    Unknown platform 404; missing or wrong key or signature 401 (before anything is read);
    a body that is not the platform's order 422 naming the fields; nothing is written then.
    For ``regelwerk``, a body with an ``invoice`` (and no ``order``) is the canonical invoice
    event, processed as ``POST /v1/shops/{shop}/invoices/events`` does.
    """

    adapter = adapter_for(platform)
    lower = {k.lower(): v for k, v in headers.items()}
    shop = adapter.authenticate(shop_id, lower, raw, now or datetime.now(UTC))
    if platform == "regelwerk" and _is_invoice_event(raw):
        return _invoice_event(shop, lower, raw)
    delivery = adapter.parse(shop, lower, raw)
    if isinstance(delivery, Ping | Skipped):
        return delivery
    event_id = event_id_for(shop.id, platform, delivery.delivery_key, raw)
    return process_order(
        shop, delivery.order, event_id=event_id, platform=platform, raw=delivery.raw, topic=delivery.topic
    )


def receive_invoice_event(shop_id: str, headers: dict[str, str], raw: bytes) -> IngestResult:
    """POST /v1/shops/{shop}/invoices/events: the canonical invoice event."""
    lower = {k.lower(): v for k, v in headers.items()}
    shop = authenticate(shop_id, lower.get("authorization"), scope="ingest")
    return _invoice_event(shop, lower, raw)


def _is_invoice_event(raw: bytes) -> bool:
    payload = parse_json(raw)
    return isinstance(payload, dict) and "invoice" in payload and "order" not in payload


def _invoice_event(shop: Shop, headers: dict[str, str], raw: bytes) -> IngestResult:
    """The canonical invoice event, deduplicated on ``Idempotency-Key``, else ``event_id``, else the body,
    alike on both routes that take it."""

    event = parse_invoice_event(raw)
    event_id = event_id_for(shop.id, "invoice", headers.get("idempotency-key") or event.event_id, raw)
    return process_invoice(shop, event.invoice, event_id=event_id)


def receive_stripe_event(
    shop_id: str, headers: dict[str, str], raw: bytes, *, now: datetime | None = None
) -> IngestResult | Ignored:
    """POST /v1/shops/{shop}/events/stripe: Stripe's invoice and subscription events.

    A missing, wrong or stale ``Stripe-Signature`` is 401 before the body is read; an event type
    Regelwerk does not use is 200 ``{"ignored": type}``; neither writes anything. Deduplicated on
    Stripe's event id.
    """

    lower = {k.lower(): v for k, v in headers.items()}
    shop = stripe.authenticate(shop_id, lower, raw, now or datetime.now(UTC))
    event = stripe.parse(shop, lower, raw)
    if isinstance(event, stripe.Ignored):
        return event
    event_id = event_id_for(shop.id, stripe.PLATFORM, event.event_id, raw)
    if event.invoice is not None:
        # Stripe delivers out of order: a late invoice.finalized must not reopen a paid invoice
        # a failed charge is news of its own: it never announces the invoice as sent (it may be the first we hear of it)
        events = ["invoice.payment_failed"] if event.type == "invoice.payment_failed" else None
        return process_invoice(
            shop, event.invoice, event_id=event_id, platform=stripe.PLATFORM, keep_later_status=True, events=events
        )
    if event.refund is not None:
        return _invoice_refunded(shop, event, event_id)
    assert event.subscription is not None and event.trigger is not None
    return process_subscription_event(
        shop, event.subscription, event.trigger, event_id=event_id, platform=stripe.PLATFORM
    )


def _invoice_refunded(shop: Shop, event: stripe.StripeEvent, event_id: str) -> IngestResult | Ignored:
    """charge.refunded: the invoice's refunded amount, and invoice.refunded when it grew."""
    assert event.refund is not None
    invoice = load_invoice(shop.id, event.refund["invoice_id"])
    if invoice is None or invoice.currency != event.refund["currency"]:
        return stripe.Ignored(f"{event.type} (invoice {event.refund['invoice_id']} is not stored)")
    total = event.refund["amount_refunded"]
    grew = total > (invoice.amount_refunded or 0)
    return process_invoice(
        shop,
        invoice.model_copy(update={"amount_refunded": total}),
        event_id=event_id,
        platform=stripe.PLATFORM,
        events=["invoice.refunded"] if grew else [],
        event_fields={"refund": event.refund["refund"]},
    )


def health() -> dict[str, Any]:

    return {"status": "ok", "version": __version__}


def raw_body(body: str | None, is_base64_encoded: bool) -> bytes:
    """The request body as the exact bytes sent: API Gateway base64-encodes binary bodies."""

    return base64.b64decode(body or "") if is_base64_encoded else (body or "").encode()
