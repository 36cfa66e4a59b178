"""WooCommerce order webhooks (``order.created``, ``order.updated``, ``order.restored``, ...).

* Authenticated by ``X-WC-Webhook-Signature``: base64 HMAC-SHA256 of the raw body under the
  webhook's secret. The body is the REST API's order (``GET /wp-json/wc/v3/orders/<id>``).
* When a webhook is saved, WooCommerce first posts an unsigned, form-encoded ping
  ``webhook_id=<id>`` and keeps the webhook only if the answer is 200: it gets
  ``200 {"ping": true}`` (for a shop that exists) and nothing is written.
* Deduplicated on the topic plus the body's hash, **not** on ``X-WC-Webhook-Delivery-ID``:
  WooCommerce makes that id from the webhook id and the current second
  (``wp_hash($id . strtotime('now'))``), so a re-sent delivery gets a new one. The body
  carries ``date_modified``, so the same order state sent again is the same delivery.
* Times: the ``*_gmt`` fields (UTC without offset) are read; amounts are strings.

Status (``platforms.woocommerce.statuses`` may map any status, custom ones included):

| WooCommerce       | canonical  |
|-------------------|------------|
| pending           | new        |
| processing        | paid       |
| on-hold           | on_hold    |
| completed         | completed  |
| cancelled         | cancelled  |
| refunded          | refunded   |
| failed            | on_hold    |
| checkout-draft    | new        |
| trash             | cancelled  |
| anything else     | its own slug without ``wc-`` (a plugin's ``wc-shipped`` is ``shipped``) |

``failed`` (the payment failed; the customer may pay again) is ``on_hold``, not cancelled, so
that no "cancelled" message goes out. WooCommerce has no shipped state: it marks fulfilled
orders completed, so ``date_completed`` becomes ``shipped_at`` and fires ``order.shipped``.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...errors import InvalidInput, Problem
from ...model.order import Order
from ...model.shop import Shop
from ...store.shops import load_shop
from . import Delivery, Ping, by_signature, mapped_status, slug
from .body import Body, address, build_order, name_of, parse_object, rounded

PLATFORM = "woocommerce"
SIGNATURE_HEADER = "X-WC-Webhook-Signature"
_PING = re.compile(rb"webhook_id=(\d{1,20})")
STATUSES = {
    "pending": "new",
    "processing": "paid",
    "on-hold": "on_hold",
    "completed": "completed",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "failed": "on_hold",
    "checkout-draft": "new",
    "trash": "cancelled",
}
_SOURCES = {
    "$.id": "$.id",
    "$.number": "$.number",
    "$.status": "$.status",
    "$.currency": "$.currency",
    "$.total": "$.total",
    "$.subtotal": "$.line_items",
    "$.shipping_total": "$.shipping_total",
    "$.tax_total": "$.total_tax",
    "$.created_at": "$.date_created_gmt",
    "$.updated_at": "$.date_modified_gmt",
    "$.paid_at": "$.date_paid_gmt",
    "$.shipped_at": "$.date_completed_gmt",
    "$.customer.email": "$.billing.email",
    "$.customer": "$.billing",
    "$.billing_address": "$.billing",
    "$.shipping_address": "$.shipping",
    "$.line_items": "$.line_items",
    "$.payment_url": "$.payment_url",
    "$.note": "$.customer_note",
}


def _ping(raw: bytes) -> re.Match[bytes] | None:
    return _PING.fullmatch(raw)


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    if _ping(raw):
        return load_shop(shop_id)  # the ping is unsigned; it writes nothing, so the shop existing is enough
    return by_signature(shop_id, PLATFORM, raw, headers, header=SIGNATURE_HEADER, encoding="base64", now=now)


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery | Ping:
    ping = _ping(raw)
    if ping:
        return Ping(PLATFORM, ping.group(1).decode())
    topic = headers.get("x-wc-webhook-topic")
    if topic and not topic.startswith("order."):
        raise InvalidInput(
            "not an order webhook",
            [Problem("X-WC-Webhook-Topic", f"{topic!r} is not an order.* topic (use order.created, order.updated)")],
        )
    payload = parse_object(raw, PLATFORM)
    key = f"{topic or 'order'}:sha256:{hashlib.sha256(raw).hexdigest()}"
    return Delivery(order=to_order(shop, payload), delivery_key=key, topic=topic, raw=payload)


def status_of(status: str) -> str:
    """The canonical status of a WooCommerce status (before a shop's own mapping)."""
    bare = status.removeprefix("wc-")
    return STATUSES.get(bare) or slug(bare) or "new"


def to_order(shop: Shop, payload: dict[str, Any]) -> Order:
    """The canonical Order of a WooCommerce order body."""
    b = Body(payload)
    raw_status = b.text("status", required=True) or ""
    billing = b.child("billing")
    taxes_by_rate = {t.text("rate_id"): t.amount("rate_percent") for t in b.children("tax_lines")}
    items = [_line(item, taxes_by_rate) for item in b.children("line_items", required=True)]
    lines_total = [i["unit_price"] * i["quantity"] for i in items if i["unit_price"] is not None and i["quantity"]]
    payment_url = b.text("payment_url")
    customer_id = b.text("customer_id")
    data: dict[str, Any] = {
        "id": b.text("id", required=True),
        "number": b.text("number") or b.text("id"),
        "channel": PLATFORM,
        "status": mapped_status(shop, PLATFORM, raw_status.removeprefix("wc-"), status_of(raw_status)),
        "currency": b.text("currency", required=True),
        "total": b.amount("total", required=True),
        "subtotal": rounded(sum(lines_total, Decimal("0")), b.text("currency")) if lines_total else None,
        "shipping_total": _plus(b.amount("shipping_total"), b.amount("shipping_tax")),
        "tax_total": b.amount("total_tax"),
        "created_at": _time(b, "date_created", required=True),
        "updated_at": _time(b, "date_modified"),
        "paid_at": _time(b, "date_paid"),
        "shipped_at": _time(b, "date_completed"),
        "customer": {
            "id": customer_id if customer_id not in (None, "0") else None,
            "email": billing.text("email") if billing else None,
            "first_name": billing.text("first_name") if billing else None,
            "last_name": billing.text("last_name") if billing else None,
            "phone": billing.text("phone") if billing else None,
        },
        "billing_address": _address(billing),
        "shipping_address": _address(b.child("shipping")),
        "line_items": items,
        "payment_url": payment_url if payment_url and payment_url.startswith("https://") else None,
        "note": (b.text("customer_note") or "")[:2000] or None,
    }
    return build_order(PLATFORM, data, b, _SOURCES)


def _time(b: Body, key: str, *, required: bool = False) -> datetime | None:
    """WooCommerce's UTC time (``<key>_gmt``, no offset), else the site-local one if it has an offset."""
    if b.has(f"{key}_gmt"):
        return b.time(f"{key}_gmt", naive="utc")
    if required and not b.has(key):
        b.problem(f"{key}_gmt", "required field is missing")
        return None
    return b.time(key) if b.has(key) else None


def _plus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None else a + (b or Decimal("0"))


def _address(a: Body | None) -> dict[str, Any] | None:
    if a is None:
        return None
    fields = {
        "name": name_of(a.text("first_name"), a.text("last_name")),
        "company": a.text("company"),
        "street": a.text("address_1"),
        "street2": a.text("address_2"),
        "zip": a.text("postcode"),
        "city": a.text("city"),
        "state": a.text("state"),
        "country": a.text("country"),
        "phone": a.text("phone"),
    }
    return address(a, fields, "country")


def _line(item: Body, rates: dict[str | None, Decimal | None]) -> dict[str, Any]:
    """A line item, its unit price tax included (the canonical convention) and before coupons."""
    quantity = item.value("quantity", required=True)
    subtotal = item.amount("subtotal", required=True)
    tax = item.amount("subtotal_tax") or Decimal("0")
    unit = (subtotal + tax) / quantity if subtotal is not None and isinstance(quantity, int) and quantity > 0 else None
    rate_ids = [t.text("id") for t in item.children("taxes")]
    rate = next((rates[r] for r in rate_ids if rates.get(r) is not None), None)
    if rate is None and subtotal and tax:
        rate = (tax / subtotal * 100).quantize(Decimal("0.01"))  # older WooCommerce: no rate_percent
    return {
        "sku": item.text("sku"),
        "name": html.unescape(item.text("name", required=True) or ""),
        "quantity": quantity,
        "unit_price": unit,
        "tax_rate": rate if rate is not None else Decimal("0"),
    }
