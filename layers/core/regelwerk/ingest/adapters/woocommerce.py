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
from ...model.money import unit_price
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
    "$.shipping_tax": "$.shipping_tax",
    "$.shipping_tax_rate": "$.shipping_lines",
    "$.fee_total": "$.fee_lines",
    "$.discount_total": "$.discount_total",
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
    "$.refunds": "$.refunds",
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
    subtotals = [i.pop("_before_discount") for i in items]
    fees = [_plus(fee.amount("total"), fee.amount("total_tax")) for fee in b.children("fee_lines")]
    discount = _plus(b.amount("discount_total"), b.amount("discount_tax"))
    payment_url = b.text("payment_url")
    customer_id = b.text("customer_id")
    data: dict[str, Any] = {
        "id": b.text("id", required=True),
        "number": b.text("number") or b.text("id"),
        "channel": PLATFORM,
        "status": mapped_status(shop, PLATFORM, raw_status.removeprefix("wc-"), status_of(raw_status)),
        "currency": b.text("currency", required=True),
        "total": b.amount("total", required=True),
        "subtotal": rounded(sum(subtotals, Decimal("0")), b.text("currency")) if subtotals else None,
        "shipping_total": _plus(b.amount("shipping_total"), b.amount("shipping_tax")),
        "shipping_tax": b.amount("shipping_tax"),
        "shipping_tax_rate": _shipping_rate(b.children("shipping_lines"), taxes_by_rate),
        "fee_total": sum((f for f in fees if f is not None), Decimal("0")) if fees else None,
        "discount_total": discount or None,
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
        "refunds": _refunds(b),
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
    """A line item as WooCommerce charged it, tax included (the canonical convention).

    ``subtotal`` (+ ``subtotal_tax``) is the line before coupons, ``total`` (+ ``total_tax``)
    after them: the line total is the latter, the discount the difference, the unit price the
    former over the quantity at full precision. Quantities may be decimal (decimal-quantity
    plugins send 1.5). ``_before_discount`` is taken out by the caller for the order's subtotal.
    """
    quantity = item.amount("quantity", required=True)
    subtotal = item.amount("subtotal", required=True)
    before = _plus(subtotal, item.amount("subtotal_tax"))
    after = _plus(item.amount("total"), item.amount("total_tax"))
    unit = None
    if before is not None and quantity is not None and quantity > 0:
        unit = unit_price(before, quantity)
    rate_ids = [t.text("id") for t in item.children("taxes")]
    rate = next((rates[r] for r in rate_ids if rates.get(r) is not None), None)
    tax = item.amount("subtotal_tax")
    if rate is None and subtotal and tax:
        rate = (tax / subtotal * 100).quantize(Decimal("0.01"))  # older WooCommerce: no rate_percent
    discount = before - after if before is not None and after is not None and before > after else None
    return {
        "sku": item.text("sku"),
        "name": html.unescape(item.text("name", required=True) or ""),
        "quantity": quantity,
        "unit_price": unit,
        "total": after if after is not None else before,
        "discount": discount,
        "tax": item.amount("total_tax"),
        "tax_rate": rate if rate is not None else Decimal("0"),
        "_before_discount": before if before is not None else Decimal(0),
    }


def _refunds(b: Body) -> list[dict[str, Any]]:
    """The order's refunds as its body lists them: id, reason and the (negative) total. WooCommerce's
    order body does not date them or say which lines: they count from the order's last change, and
    a credit note for one is for its amount (the refund itself, ``wc/v3/orders/<id>/refunds``, has the lines)."""
    when = _time(b, "date_modified") or _time(b, "date_created")
    out = []
    for refund in b.children("refunds"):
        total = refund.amount("total")
        if total is None or total == 0:
            continue
        out.append(
            {
                "id": refund.text("id", required=True),
                "created_at": when,
                "amount": abs(total),
                "reason": (refund.text("reason") or "")[:500] or None,
            }
        )
    return out


def _shipping_rate(lines: list[Body], rates: dict[str | None, Decimal | None]) -> Decimal | None:
    """The one VAT rate the shipping was charged at, or None (no tax, or several rates)."""
    found = {
        rates.get(t.text("id"))
        for line in lines
        for t in line.children("taxes")
        if (t.amount("total") or Decimal(0)) != 0
    }
    return found.pop() if len(found) == 1 else None
