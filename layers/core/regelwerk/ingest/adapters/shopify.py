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

Amounts are tax-included, as the canonical order has them (with ``taxes_included: false`` the
line's and the shipping's own tax lines are added; an order-level tax is never spread over the
lines), in the currency the customer paid in (``presentment_currency``; the shop's own figures go
to ``shop_money``). Shopify's order has no payment time: ``paid_at`` is ``processed_at``
once the financial status says paid (partially refunded and refunded orders were paid too);
``shipped_at`` is the newest successful fulfilment's time once the order is fulfilled.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ...errors import InvalidInput, Problem
from ...model.money import unit_price
from ...model.order import Order
from ...model.shop import Shop
from ...store.orders import load_order
from . import Delivery, Skipped, by_signature, mapped_status, slug
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
    "$.shipping_tax": "$.shipping_lines",
    "$.shipping_tax_rate": "$.shipping_lines",
    "$.discount_total": "$.line_items",
    "$.shop_money": "$.total_price_set",
    "$.created_at": "$.created_at",
    "$.updated_at": "$.updated_at",
    "$.customer.email": "$.email",
    "$.customer.language": "$.customer_locale",
    "$.customer": "$.customer",
    "$.billing_address": "$.billing_address",
    "$.shipping_address": "$.shipping_address",
    "$.line_items": "$.line_items",
    "$.tags": "$.tags",
    "$.refunds": "$.refunds",
    "$.note": "$.note",
}


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    return by_signature(shop_id, PLATFORM, raw, headers, header=SIGNATURE_HEADER, encoding="base64", now=now)


REFUNDS_CREATE = "refunds/create"


def _refund_delivery(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery | Skipped:
    """``refunds/create``: the body is the refund, with its ``order_id``. It joins the stored order's
    refunds (the order as last imported, so the refund fires ``order.refunded`` once, as it would
    from the next ``orders/updated``, which carries it too). A refund of an order Regelwerk has not
    imported is answered 200 and written nowhere: the order's own webhook brings it with the order."""
    payload = parse_object(raw, PLATFORM)
    if set(payload) == {"refund"} and isinstance(payload["refund"], dict):
        payload = payload["refund"]
    b = Body(payload)
    order_id = b.text("order_id", required=True)
    if order_id is None:
        raise InvalidInput("the body is not a Shopify refund", b.problems)
    stored = load_order(shop.id, order_id)
    if stored is None:
        return Skipped(PLATFORM, f"refund of order {order_id}, which has not been imported")
    money = _Money(stored.currency, stored.shop_money.currency if stored.shop_money else stored.currency)
    refund = _refund(b, money, included=None)  # taxes_included is not in the body: the money given back tells
    if b.problems:
        raise InvalidInput("the body is not a Shopify refund", b.problems)
    if refund is None or any(r.id == refund["id"] for r in stored.refunds):
        return Skipped(PLATFORM, "no money given back, or this refund is already on the order")
    data = stored.model_dump(mode="json") | {"updated_at": refund["created_at"].isoformat()}
    data["refunds"] = data["refunds"] + [{k: (v.isoformat() if k == "created_at" else v) for k, v in refund.items()}]
    order = build_order(PLATFORM, data, b, {"$.refunds": "$"})
    return Delivery(order=order, delivery_key=headers.get("x-shopify-webhook-id"), topic=REFUNDS_CREATE, raw=payload)


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery | Skipped:
    topic = headers.get("x-shopify-topic")
    if topic == REFUNDS_CREATE:
        return _refund_delivery(shop, headers, raw)
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
    money = _Money.of(b)
    included = payload.get("taxes_included") is not False
    order_rate = _rate(b.children("tax_lines"))
    fallback_name = next((a for a in (b.child("billing_address"), b.child("shipping_address")) if a), None)
    lines = [_line(item, money, order_rate, included=included) for item in b.children("line_items") if _quantity(item)]
    shipping_total, shipping_tax, shipping_rate = _shipping(b, money, included=included)
    discounts = [line["discount"] for line in lines if line["discount"]]
    data: dict[str, Any] = {
        "id": b.text("id", required=True),
        "number": _number(b),
        "channel": PLATFORM,
        "status": status,
        "currency": money.currency,
        "total": money.amount(b, "total_price", required=True),
        "subtotal": money.amount(b, "subtotal_price"),
        "shipping_total": shipping_total,
        "shipping_tax": shipping_tax,
        "shipping_tax_rate": shipping_rate,
        "discount_total": sum(discounts, Decimal(0)) if discounts else None,
        "tax_total": money.amount(b, "total_tax"),
        "shop_money": money.shop_figures(b),
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
        "line_items": lines,
        "language": language(b.text("customer_locale")),
        "tags": _tags(b.text("tags")),
        "note": (b.text("note") or "")[:2000] or None,
        "refunds": [r for r in (_refund(x, money, included=included) for x in b.children("refunds")) if r],
    }
    return build_order(PLATFORM, data, b, _SOURCES)


def _refund(r: Body, money: _Money, *, included: bool | None) -> dict[str, Any] | None:
    """A refund as Shopify recorded it: the money given back is its successful ``refund``
    transactions; ``refund_line_items`` (their subtotal, plus their tax when taxes are excluded)
    and shipping refunds (``order_adjustments`` of kind ``shipping_refund``) say for what.
    ``included`` None (a refund without its order's ``taxes_included``): whichever reading adds
    up to the money given back. A refund that gave no money back (a restock only) is none."""
    paid_back = [
        t for t in r.children("transactions") if t.text("kind") == "refund" and t.text("status") in ("success", None)
    ]
    amount = _sum(paid_back, "amount", money) if paid_back else None
    lines: list[dict[str, Any]] = []
    items = r.children("refund_line_items")
    if included is None:
        subtotals = _sum(items, "subtotal", money)
        with_tax = subtotals + _sum(items, "total_tax", money)
        included = amount is None or abs(subtotals - amount) <= abs(with_tax - amount)
    for item in items:
        line = item.child("line_item")
        subtotal = money.amount(item, "subtotal") or Decimal(0)
        tax = money.amount(item, "total_tax") or Decimal(0)
        lines.append(
            {
                "sku": line.text("sku") if line else None,
                "name": (line.text("name") or line.text("title")) if line else "?",
                "quantity": item.amount("quantity"),
                "total": subtotal if included else subtotal + tax,
                "tax_rate": _rate(line.children("tax_lines")) or Decimal(0) if line else Decimal(0),
            }
        )
    shipping = [a for a in r.children("order_adjustments") if a.text("kind") == "shipping_refund"]
    shipping_back = -sum(
        ((money.amount(a, "amount") or Decimal(0)) + (money.amount(a, "tax_amount") or Decimal(0)) for a in shipping),
        Decimal(0),
    )
    if amount is None:  # no transaction listed: what the lines and shipping add up to
        amount = sum((x["total"] for x in lines), Decimal(0)) + shipping_back
    if amount <= 0:
        return None
    return {
        "id": r.text("id", required=True),
        "created_at": r.time("processed_at") or r.time("created_at", required=True),
        "amount": amount,
        "reason": (r.text("note") or "")[:500] or None,
        "lines": [x for x in lines if x["quantity"]],
        "shipping": shipping_back or None,
    }


class _Money:
    """Reads Shopify amounts in the currency the customer paid in.

    Shopify states every amount twice where the buyer paid in another currency than the shop's:
    ``price`` (shop money) and ``price_set.presentment_money`` (what the customer paid). The
    canonical order is in the customer's currency (documents and messages show it); the shop's
    total and tax go to ``shop_money`` for its books.
    """

    def __init__(self, currency: str | None, shop_currency: str | None):
        self.currency = currency
        self.shop_currency = shop_currency

    @classmethod
    def of(cls, b: Body) -> _Money:
        shop_currency = b.text("currency", required=True)
        presentment = b.text("presentment_currency")
        return cls(presentment or shop_currency, shop_currency)

    @property
    def foreign(self) -> bool:
        return self.currency != self.shop_currency

    def amount(self, body: Body, key: str, *, required: bool = False) -> Decimal | None:
        if self.foreign:
            found = _set_amount(body, key, "presentment_money")
            if found is not None:
                return found
            if required or body.has(key):  # the shop's amount without the customer's: never mix currencies
                body.problem(f"{key}_set", f"the amount in {self.currency} (presentment_money) is missing")
            return None
        return body.amount(key, required=required)

    def shop_figures(self, b: Body) -> dict[str, Any] | None:
        if not self.foreign:
            return None
        return {"currency": self.shop_currency, "total": b.amount("total_price"), "tax_total": b.amount("total_tax")}


def _set_amount(body: Body, key: str, which: str) -> Decimal | None:
    money_set = body.child(f"{key}_set")
    side = money_set.child(which) if money_set else None
    return side.amount("amount") if side else None


def _sum(bodies: list[Body], key: str, money: _Money) -> Decimal:
    amounts = [money.amount(x, key) for x in bodies]
    return sum((a for a in amounts if a is not None), Decimal(0))


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


def _shipping(b: Body, money: _Money, *, included: bool) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(shipping gross after its discounts, its tax, its one rate or None) as Shopify charged them."""
    lines = b.children("shipping_lines")
    if not lines:
        return None, None, None
    gross = Decimal(0)
    for line in lines:
        price = money.amount(line, "discounted_price") if line.has("discounted_price") else None
        gross += price if price is not None else (money.amount(line, "price") or Decimal(0))
    taxes = [t for line in lines for t in line.children("tax_lines")]
    tax = _sum(taxes, "price", money) if taxes else None
    if tax is not None and not included:
        gross += tax
    rates = {_rate([t]) for t in taxes if (money.amount(t, "price") or Decimal(0)) != 0}
    rates_per_line = {_rate(line.children("tax_lines")) for line in lines if line.children("tax_lines")}
    rate = rates_per_line.pop() if len(rates_per_line) == 1 and rates else None
    return gross, tax, rate


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


def _line(item: Body, money: _Money, order_rate: Decimal | None, *, included: bool) -> dict[str, Any]:
    """A line item as Shopify charged it, tax included (the canonical convention).

    ``price`` is the unit price before discounts, tax included or not as ``taxes_included``
    says; ``discount_allocations`` are the discounts taken off the line; the line's own
    ``tax_lines`` are its tax after discounts. With taxes excluded the line's gross is
    price x quantity - discounts + its own tax: an order-level tax is never spread over lines
    (a line without tax lines stays net, and the run log says the order does not add up).
    """
    own_lines = item.children("tax_lines")
    own = _rate(own_lines)
    taxable = item.value("taxable") is not False
    quantity = item.amount("quantity")
    price = money.amount(item, "price", required=True)
    allocations = item.children("discount_allocations")
    discount = _sum(allocations, "amount", money) if allocations else money.amount(item, "total_discount")
    tax = _sum(own_lines, "price", money) if own_lines else None
    # with taxes included the order's rate tells how much of the price is tax; excluded, only the line's own
    rate = (own if own is not None else (order_rate if taxable else None)) if included else own
    total = unit = gross_discount = None
    if price is not None and quantity is not None and quantity > 0:
        net = price * quantity - (discount or Decimal(0))
        total = net + (tax or Decimal(0)) if not included else net
        gross_discount = discount
        if discount and not included and rate:
            gross_discount = (discount * (1 + rate / 100)).quantize(Decimal("0.01"))  # the tax share of the discount
        unit = price if included or not tax else unit_price(total + (gross_discount or Decimal(0)), quantity)
    return {
        "sku": item.text("sku"),
        "name": item.text("name") or item.text("title", required=True),
        "quantity": quantity,
        "unit_price": unit,
        "total": total,
        "discount": gross_discount or None,
        "tax": tax,
        "tax_rate": rate if rate is not None else Decimal("0"),
    }


def _tags(text: str | None) -> list[str]:
    # Shopify sends tags as one comma-separated string. The canonical order keeps up to 50 of
    # up to 64 characters; longer ones stay in event.raw.tags.
    tags = [t.strip() for t in (text or "").split(",") if t.strip()]
    return [t for t in tags if len(t) <= 64][:50]
