"""Shopify order webhooks: the REST order JSON, as sent for ``orders/create``, ``orders/updated``,
``orders/paid``, ``orders/fulfilled``, ``orders/cancelled`` (and the other ``orders/*`` topics).

* Authenticated by ``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body under the
  shop's webhook secret. Deduplicated on ``X-Shopify-Webhook-Id`` (the same on every retry).
* The body is the order object itself; ``{"order": {...}}`` (the REST API's wrapping) is
  accepted as well.
* Ids are JSON integers beyond 2^53: they are read as exact strings. Amounts are strings.

Status, the first row that applies (in brackets the key for a shop's own mapping in
``platforms.shopify.statuses``; for the financial rows it is the financial status itself):

| Shopify                                               | canonical         |
|-------------------------------------------------------|-------------------|
| ``cancelled_at`` set (cancelled)                      | cancelled         |
| financial ``refunded`` (refunded)                     | refunded          |
| financial ``voided`` (voided)                         | cancelled         |
| fulfillment ``fulfilled`` and ``closed_at`` (closed)  | completed         |
| fulfillment ``fulfilled`` (fulfilled)                 | shipped           |
| fulfillment ``partial`` (partial)                     | partially_shipped |
| financial ``paid`` / ``partially_refunded``           | paid              |
| financial ``partially_paid``                          | partially_paid    |
| financial ``expired``                                 | on_hold           |
| financial ``pending`` / ``authorized`` / none         | new               |

The topic is not needed for the status: every topic's body carries the whole order.

Unit prices are tax-included, as the canonical order has them (with ``taxes_included: false``
the line's tax is added). Shopify's order has no payment time: ``paid_at`` is ``processed_at``
once the financial status says paid (partially refunded and refunded orders were paid too);
``shipped_at`` is the newest successful fulfilment's time once the order is fulfilled.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ...errors import InvalidInput, Problem
from ...model.order import Order
from ...model.shop import Shop
from . import Delivery, by_signature, mapped_status, slug
from .body import Body, address, build_order, language, name_of, parse_object

PLATFORM = "shopify"
SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
PAID = ("paid", "partially_refunded", "refunded")
_FINANCIAL = {
    "paid": "paid",
    "partially_refunded": "paid",
    "partially_paid": "partially_paid",
    "pending": "new",
    "authorized": "new",
    "unpaid": "new",
    "expired": "on_hold",
}
_SOURCES = {
    "$.id": "$.id",
    "$.number": "$.name",
    "$.currency": "$.currency",
    "$.total": "$.total_price",
    "$.subtotal": "$.subtotal_price",
    "$.tax_total": "$.total_tax",
    "$.shipping_total": "$.shipping_lines",
    "$.created_at": "$.created_at",
    "$.updated_at": "$.updated_at",
    "$.customer.email": "$.email",
    "$.customer.language": "$.customer_locale",
    "$.customer": "$.customer",
    "$.billing_address": "$.billing_address",
    "$.shipping_address": "$.shipping_address",
    "$.line_items": "$.line_items",
    "$.tags": "$.tags",
    "$.note": "$.note",
}


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    return by_signature(shop_id, PLATFORM, raw, headers, header=SIGNATURE_HEADER, encoding="base64", now=now)


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery:
    topic = headers.get("x-shopify-topic")
    if topic and not topic.startswith("orders/"):
        raise InvalidInput(
            "not an order webhook",
            [
                Problem(
                    "X-Shopify-Topic", f"{topic!r} is not an orders/* topic (subscribe orders/create, orders/updated)"
                )
            ],
        )
    payload = parse_object(raw, PLATFORM)
    if set(payload) == {"order"} and isinstance(payload["order"], dict):
        payload = payload["order"]
    return Delivery(
        order=to_order(shop, payload),
        delivery_key=headers.get("x-shopify-webhook-id"),
        topic=topic,
        raw=payload,
    )


def status_of(order: dict[str, Any]) -> tuple[str, str]:
    """(Shopify's deciding status, canonical status) of an order body."""
    financial = str(order.get("financial_status") or "")
    fulfillment = str(order.get("fulfillment_status") or "")
    if order.get("cancelled_at"):
        return "cancelled", "cancelled"
    if financial == "refunded":
        return "refunded", "refunded"
    if financial == "voided":
        return "voided", "cancelled"
    if fulfillment == "fulfilled":
        return ("closed", "completed") if order.get("closed_at") else ("fulfilled", "shipped")
    if fulfillment == "partial":
        return "partial", "partially_shipped"
    if financial:
        return financial, _FINANCIAL.get(financial) or slug(financial) or "new"
    return "", "new"


def to_order(shop: Shop, payload: dict[str, Any]) -> Order:
    """The canonical Order of a Shopify order body."""
    b = Body(payload)
    token, default = status_of(payload)
    status = mapped_status(shop, PLATFORM, token, default)
    financial = b.text("financial_status")
    created_at = b.time("created_at", required=True)
    customer = b.child("customer")
    billing = _address(b.child("billing_address"))
    shipping = _address(b.child("shipping_address"))
    order_taxes = _rate(b.children("tax_lines"))
    fallback_name = next((a for a in (b.child("billing_address"), b.child("shipping_address")) if a), None)
    data: dict[str, Any] = {
        "id": b.text("id", required=True),
        "number": _number(b),
        "channel": PLATFORM,
        "status": status,
        "currency": b.text("currency", required=True),
        "total": b.amount("total_price", required=True),
        "subtotal": b.amount("subtotal_price"),
        "shipping_total": _shipping(b),
        "tax_total": b.amount("total_tax"),
        "created_at": created_at,
        "updated_at": b.time("updated_at"),
        "paid_at": (b.time("processed_at") or created_at) if financial in PAID else None,
        "shipped_at": _shipped_at(b) if payload.get("fulfillment_status") == "fulfilled" else None,
        "customer": {
            "id": customer.text("id") if customer else None,
            "email": b.text("email") or b.text("contact_email") or (customer.text("email") if customer else None),
            "first_name": (customer.text("first_name") if customer else None)
            or (fallback_name.text("first_name") if fallback_name else None),
            "last_name": (customer.text("last_name") if customer else None)
            or (fallback_name.text("last_name") if fallback_name else None),
            "phone": b.text("phone") or (customer.text("phone") if customer else None),
            "language": language(b.text("customer_locale")),
        },
        "billing_address": billing,
        "shipping_address": shipping,
        "line_items": [
            _line(item, order_taxes, included=payload.get("taxes_included") is not False)
            for item in b.children("line_items")
            if _quantity(item)
        ],
        "language": language(b.text("customer_locale")),
        "tags": _tags(b.text("tags")),
        "note": (b.text("note") or "")[:2000] or None,
    }
    return build_order(PLATFORM, data, b, _SOURCES)


def _number(b: Body) -> str | None:
    name = b.text("name")
    if name and name.lstrip("#"):
        return name.lstrip("#")
    return b.text("order_number") or b.text("number", required=True)


def _address(a: Body | None) -> dict[str, Any] | None:
    if a is None:
        return None
    fields = {
        "name": a.text("name") or name_of(a.text("first_name"), a.text("last_name")),
        "company": a.text("company"),
        "street": a.text("address1"),
        "street2": a.text("address2"),
        "zip": a.text("zip"),
        "city": a.text("city"),
        "state": a.text("province"),
        "country": a.text("country_code"),
        "phone": a.text("phone"),
    }
    return address(a, fields, "country_code")


def _shipping(b: Body) -> Decimal | None:
    lines = b.children("shipping_lines")
    if not lines:
        return None
    amounts = [line.amount("price") for line in lines]
    return sum((x for x in amounts if x is not None), Decimal("0"))


def _shipped_at(b: Body) -> datetime | None:
    times = [f.time("created_at") for f in b.children("fulfillments") if f.text("status") == "success"]
    return max((t for t in times if t), default=None) or b.time("updated_at") or b.time("created_at")


def _rate(tax_lines: list[Body]) -> Decimal | None:
    """The tax rate in percent from Shopify's tax lines (``rate`` is a fraction: 0.19 for 19 %)."""
    rates = [t.amount("rate") for t in tax_lines]
    known = [r for r in rates if r is not None]
    return sum(known, Decimal("0")) * 100 if known else None


def _quantity(item: Body) -> bool:
    value = item.value("quantity", required=True)
    return not isinstance(value, int) or value > 0  # a non-integer is reported by the canonical model


def _line(item: Body, order_rate: Decimal | None, *, included: bool) -> dict[str, Any]:
    """A line item with its unit price tax included (the canonical convention; invoices take the tax
    out of it). With ``taxes_included: false`` Shopify's ``price`` is net: the line's own tax is
    added, else the order's rate.
    """
    own_lines = item.children("tax_lines")
    own = _rate(own_lines)
    taxable = item.value("taxable") is not False
    rate = own if own is not None else (order_rate if taxable else None)
    price = item.amount("price", required=True)
    quantity = item.value("quantity")
    if price is not None and not included and isinstance(quantity, int) and quantity > 0:
        taxes = [t.amount("price") for t in own_lines if t.has("price")]
        if taxes:
            price += sum((t for t in taxes if t is not None), Decimal("0")) / quantity
        elif rate:
            price = (price * (1 + rate / 100)).quantize(Decimal("0.01"))
    return {
        "sku": item.text("sku"),
        "name": item.text("name") or item.text("title", required=True),
        "quantity": quantity,
        "unit_price": price,
        "tax_rate": rate if rate is not None else Decimal("0"),
    }


def _tags(text: str | None) -> list[str]:
    # Shopify sends tags as one comma-separated string. The canonical order keeps up to 50 of
    # up to 64 characters; longer ones stay in event.raw.tags.
    tags = [t.strip() for t in (text or "").split(",") if t.strip()]
    return [t for t in tags if len(t) <= 64][:50]
