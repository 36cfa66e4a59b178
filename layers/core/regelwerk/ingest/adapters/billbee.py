"""Billbee orders: Billbee's order JSON (PascalCase: ``BillBeeOrderId``, ``OrderNumber``, ``State``,
``InvoiceAddress``, ``ShippingAddress``, ``OrderItems``, ...), posted by the shop's own
integration (a Billbee automation calling a URL, or a script reading ``GET /api/v1/orders``).

* Authenticated with the shop's ingest API key (``Authorization: Bearer``): Billbee signs
  nothing. Deduplicated on ``Idempotency-Key`` if the sender sets one, else the body's hash.
* The order object itself, or Billbee's API answer ``{"Data": {order}, "ErrorCode": 0, ...}``.
* Amounts are JSON numbers, read as decimals (never float). Times without an offset are UTC
  (Billbee's API stores UTC).
* The canonical id is ``BillBeeOrderId`` (Billbee's own, unique per account; the shop's id is
  ``Id``), the number ``OrderNumber``. ``channel`` is the sales channel the order came from
  (``Seller.Platform``, e.g. ``amazon``, ``shopify``), else ``billbee``.
* The buyer's e-mail: ``InvoiceAddress.Email``, else ``ShippingAddress.Email``,
  ``Customer.Email``, ``Buyer.Email`` (marketplaces put a relay address there).

Status: Billbee's ``OrderStateEnum`` (names from Billbee's SDKs). Paid and shipped are also
read from ``PayedAt`` / ``ShippedAt``, so ``order.paid`` fires when a payment is recorded
whatever the state. States that say nothing about payment or shipping become the shop's own
slugs rather than ``paid``: an order on invoice can be packed before it is paid. A shop maps
any state its own way in ``platforms.billbee.statuses`` (``"13": paid``).

| State | Billbee                       | canonical        |
|------:|-------------------------------|------------------|
| 1     | Bestellt (ordered)            | new (*)          |
| 2     | Bestätigt (confirmed)         | new (*)          |
| 3     | Zahlung erhalten (paid)       | paid             |
| 4     | Versendet (shipped)           | shipped          |
| 5     | Reklamation (complaint)       | on_hold          |
| 6     | Gelöscht (deleted)            | cancelled        |
| 7     | Abgeschlossen (completed)     | completed        |
| 8     | Storniert (cancelled)         | cancelled        |
| 9     | Archiviert (archived)         | archived         |
| 10    | Bewertet (rated)              | completed        |
| 11    | Mahnung (demand note)         | on_hold          |
| 12    | 2. Mahnung (second demand)    | on_hold          |
| 13    | Gepackt (packed)              | packed           |
| 14    | Angeboten (offered)           | new              |
| 15    | Zahlungserinnerung (reminder) | on_hold          |
| 16    | Im Fulfillment                | in_fulfillment   |
| 17    | Retoure (return)              | returned         |
| other | -                             | state_<n>        |

(*) ``shipped`` when the order carries ``ShippedAt``, else ``paid`` when it carries ``PayedAt``
(also for 14, offered): Billbee leaves many paid and shipped orders in state 1.

Archived is its own status because Billbee archives cancelled orders too: mapping it to
completed would tell a customer whose order was cancelled that it is complete.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ...model.money import unit_price
from ...model.order import Order
from ...model.shop import Shop
from . import Delivery, by_api_key, mapped_status, slug
from .body import Body, address, build_order, language, name_of, parse_object, rounded

PLATFORM = "billbee"
STATES = {
    1: "new",
    2: "new",
    3: "paid",
    4: "shipped",
    5: "on_hold",
    6: "cancelled",
    7: "completed",
    8: "cancelled",
    9: "archived",
    10: "completed",
    11: "on_hold",
    12: "on_hold",
    13: "packed",
    14: "new",
    15: "on_hold",
    16: "in_fulfillment",
    17: "returned",
}
_SOURCES = {
    "$.id": "$.BillBeeOrderId",
    "$.number": "$.OrderNumber",
    "$.status": "$.State",
    "$.currency": "$.Currency",
    "$.total": "$.TotalCost",
    "$.subtotal": "$.OrderItems",
    "$.shipping_total": "$.ShippingCost",
    "$.tax_total": "$.OrderItems",
    "$.created_at": "$.CreatedAt",
    "$.updated_at": "$.LastModifiedAt",
    "$.paid_at": "$.PayedAt",
    "$.shipped_at": "$.ShippedAt",
    "$.customer.email": "$.InvoiceAddress.Email",
    "$.customer": "$.Customer",
    "$.billing_address": "$.InvoiceAddress",
    "$.shipping_address": "$.ShippingAddress",
    "$.line_items": "$.OrderItems",
    "$.language": "$.LanguageCode",
    "$.tags": "$.Tags",
}


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    return by_api_key(shop_id, headers)


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery:
    payload = parse_object(raw, PLATFORM)
    data = payload.get("Data")
    if isinstance(data, dict) and ("BillBeeOrderId" in data or "OrderNumber" in data):
        payload = data  # Billbee's API answer around the order
    return Delivery(order=to_order(shop, payload), delivery_key=headers.get("idempotency-key"), raw=payload)


def status_of(state: Any) -> tuple[str, str]:
    """(the state as text, canonical status) of Billbee's numeric ``State``."""
    if isinstance(state, bool) or not isinstance(state, int | Decimal) or int(state) != state:
        return "", "new"
    number = int(state)
    return str(number), STATES.get(number, f"state_{number}")


def to_order(shop: Shop, payload: dict[str, Any]) -> Order:
    """The canonical Order of a Billbee order body."""
    b = Body(payload)
    if b.value("State", required=True) is not None and status_of(payload["State"])[0] == "":
        b.problem("State", f"must be Billbee's numeric order state, not {payload['State']!r}")
    token, default = status_of(payload.get("State"))
    if default == "new":  # ordered / confirmed / offered, but Billbee recorded a shipment or a payment
        default = "shipped" if b.has("ShippedAt") else "paid" if b.has("PayedAt") else default
    invoice = b.child("InvoiceAddress")
    shipping = b.child("ShippingAddress")
    customer = b.child("Customer")
    buyer = b.child("Buyer")
    seller = b.child("Seller")
    items = b.children("OrderItems")
    lines = [line for line in (_line(item, b) for item in items) if line is not None]
    totals = [item.amount("TotalPrice") for item in items]
    taxes = [t for t in (item.amount("TaxAmount") for item in items if item.has("TaxAmount")) if t is not None]
    channel = slug(seller.text("Platform") or "") if seller else None
    data: dict[str, Any] = {
        "id": b.text("BillBeeOrderId") or b.text("Id") or b.text("BillBeeOrderId", required=True),
        "number": b.text("OrderNumber") or b.text("Id"),
        "channel": channel or PLATFORM,
        "status": mapped_status(shop, PLATFORM, token, default),
        "currency": b.text("Currency", required=True),
        "total": b.amount("TotalCost", required=True),
        "subtotal": sum((t for t in totals if t is not None), Decimal("0")) if items else None,
        "shipping_total": b.amount("ShippingCost"),
        "tax_total": rounded(sum(taxes, Decimal("0")), b.text("Currency")) if taxes else None,
        "created_at": b.time("CreatedAt", required=True, naive="utc"),
        "updated_at": b.time("LastModifiedAt", naive="utc") or b.time("UpdatedAt", naive="utc"),
        "paid_at": b.time("PayedAt", naive="utc"),
        "shipped_at": b.time("ShippedAt", naive="utc"),
        "customer": {
            "id": customer.text("Id") if customer else None,
            "email": _text(invoice, "Email")
            or _text(shipping, "Email")
            or _text(customer, "Email")
            or _text(buyer, "Email"),
            "first_name": _text(invoice, "FirstName") or _text(buyer, "FirstName"),
            "last_name": _text(invoice, "LastName") or _text(buyer, "LastName"),
            "phone": _text(invoice, "Phone") or _text(customer, "Tel1"),
            "language": language(b.text("LanguageCode")),
        },
        "billing_address": _address(invoice),
        "shipping_address": _address(shipping),
        "line_items": lines,
        "language": language(b.text("LanguageCode")),
        "tags": _tags(payload.get("Tags")),
    }
    return build_order(PLATFORM, data, b, _SOURCES)


def _tags(value: Any) -> list[str]:
    # up to 50 tags of up to 64 characters on the canonical order; all of them stay in event.raw.Tags
    tags = [str(t).strip() for t in value or [] if t is not None] if isinstance(value, list) else []
    return [t for t in tags if 0 < len(t) <= 64][:50]


def _text(body: Body | None, key: str) -> str | None:
    return body.text(key) if body else None


def _address(a: Body | None) -> dict[str, Any] | None:
    if a is None:
        return None
    iso2 = a.text("CountryISO2")
    country = iso2 or (a.text("Country") if len(a.text("Country") or "") == 2 else None)
    fields = {
        "name": name_of(a.text("FirstName"), a.text("LastName")),
        "company": a.text("Company"),
        "street": a.text("Street"),
        "house_number": a.text("HouseNumber"),
        "street2": a.text("Line2") or a.text("NameAddition"),
        "zip": a.text("Zip"),
        "city": a.text("City"),
        "state": a.text("State"),
        "country": country,
        "phone": a.text("Phone"),
    }
    return address(a, fields, "CountryISO2")


def _line(item: Body, order: Body) -> dict[str, Any] | None:
    """A line item; Billbee's ``TotalPrice`` is the line's gross total, its quantity a decimal (0.5 kg)."""
    quantity = item.amount("Quantity", required=True)
    if quantity is None:
        return None
    if quantity <= 0:
        return None  # Billbee keeps removed positions with quantity 0
    product = item.child("Product")
    total = item.amount("TotalPrice", required=True)
    index = item.value("TaxIndex")
    rate = order.amount(f"TaxRate{index}") if isinstance(index, int) and index in (1, 2) else None
    return {
        "sku": (product.text("SKU") if product else None) or item.text("InvoiceSKU"),
        "name": (product.text("Title") if product else None) or item.text("Title", required=True),
        "quantity": quantity,
        "unit_price": item.amount("UnitPrice")
        if item.has("UnitPrice")
        else (unit_price(total, quantity) if total is not None else None),
        "total": total,
        "tax": item.amount("TaxAmount"),
        "tax_rate": rate if rate is not None else Decimal("0"),
    }
