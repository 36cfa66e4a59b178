"""Shopware 6 app webhooks that carry an order: ``checkout.order.placed`` and the state events
``state_enter.order.state.*``, ``state_enter.order_transaction.state.*``,
``state_enter.order_delivery.state.*``.

* The envelope: ``{"data": {"payload": {"order": {...}}, "event": ...}, "source": {"url",
  "appVersion", "shopId", "eventId"}, "timestamp": <unix seconds>}``.
* Authenticated by ``shopware-shop-signature``: hex HMAC-SHA256 of the raw body under the shop
  secret of the app registration. Deduplicated on ``X-Shopware-Event-Id`` /
  ``source.eventId`` (stable across retries), else the body's hash.
* ``timestamp`` is covered by the signature and can refuse replays; Shopware retries a failed
  delivery for about 4.5 hours (5 s, 30 s, 5 min, 30 min, 4 h) with the same body, so a
  5-minute window would lose orders. A body is refused as stale when its timestamp is older
  than **6 hours** or more than 5 minutes ahead. A timestamp before 2020 (the documentation's
  sample says ``123123123``) is not plausible as a send time and is not checked; replays
  within the window are harmless anyway: the event id finds the first delivery.
* ``entity.written`` events (``order.written``) carry only ids and are refused with 422.

Status: Shopware keeps three state machines. The first that applies (a shop's own mapping in
``platforms.shopware.statuses`` uses the keys in brackets, e.g. ``transaction.paid_partially``);
a ``state_enter.*`` event's state wins over the state in its payload:

| Shopware                                          | canonical          |
|---------------------------------------------------|--------------------|
| order ``cancelled`` / ``completed``               | cancelled / completed |
| transaction ``refunded`` / ``chargeback``         | refunded / on_hold |
| delivery ``shipped`` / ``shipped_partially``      | shipped / partially_shipped |
| delivery ``returned`` / ``returned_partially``    | returned / partially_returned |
| transaction ``paid``, ``refunded_partially``      | paid               |
| transaction ``paid_partially``                    | partially_paid     |
| transaction ``failed``, ``reminded``, ``cancelled`` | on_hold          |
| otherwise (open, in_progress, authorized, ...)    | new                |

Unit prices are tax-included (for net orders, ``taxStatus: net``, the line's tax is added).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ...errors import InvalidInput, Problem, Unauthorized
from ...model.money import unit_price
from ...model.order import Order
from ...model.shop import Shop
from . import Delivery, by_signature, mapped_status
from .body import Body, address, build_order, language, name_of, parse_object

PLATFORM = "shopware"
SIGNATURE_HEADER = "shopware-shop-signature"
MAX_AGE = timedelta(hours=6)
MAX_AHEAD = timedelta(minutes=5)
PLAUSIBLE_SINCE = datetime(2020, 1, 1, tzinfo=UTC)

_ORDER = {"cancelled": "cancelled", "completed": "completed"}
_TRANSACTION_FIRST = {"refunded": "refunded", "chargeback": "on_hold"}
_DELIVERY = {
    "shipped": "shipped",
    "shipped_partially": "partially_shipped",
    "returned": "returned",
    "returned_partially": "partially_returned",
}
_TRANSACTION = {
    "paid": "paid",
    "refunded_partially": "paid",
    "paid_partially": "partially_paid",
    "failed": "on_hold",
    "reminded": "on_hold",
    "cancelled": "on_hold",
}
PAID = ("paid", "refunded_partially", "refunded")
SHIPPED = ("shipped", "returned", "returned_partially")
_P = "$.data.payload.order"
_SOURCES = {
    "$.id": f"{_P}.id",
    "$.number": f"{_P}.orderNumber",
    "$.currency": f"{_P}.currency.isoCode",
    "$.total": f"{_P}.amountTotal",
    "$.subtotal": f"{_P}.positionPrice",
    "$.shipping_total": f"{_P}.shippingTotal",
    "$.tax_total": f"{_P}.price.calculatedTaxes",
    "$.created_at": f"{_P}.orderDateTime",
    "$.updated_at": f"{_P}.updatedAt",
    "$.customer": f"{_P}.orderCustomer",
    "$.billing_address": f"{_P}.addresses",
    "$.shipping_address": f"{_P}.deliveries[0].shippingOrderAddress",
    "$.line_items": f"{_P}.lineItems",
    "$.tags": f"{_P}.tags",
    "$.note": f"{_P}.customerComment",
}


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    shop = by_signature(shop_id, PLATFORM, raw, headers, header=SIGNATURE_HEADER, encoding="hex", now=now)
    check_timestamp(parse_object(raw, PLATFORM).get("timestamp"), now)
    return shop


def check_timestamp(value: Any, now: datetime) -> None:
    """401 for a signed body sent too long ago (or ahead); see the module docstring for the window."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return
    try:
        sent = datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, ValueError, OSError):
        return
    if sent < PLAUSIBLE_SINCE:
        return
    if now - sent > MAX_AGE:
        raise Unauthorized(f"stale webhook: timestamp {sent.isoformat()} is more than {MAX_AGE} old")
    if sent - now > MAX_AHEAD:
        raise Unauthorized(f"webhook timestamp {sent.isoformat()} lies in the future")


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery:
    payload = parse_object(raw, PLATFORM)
    envelope = Body(payload)
    data = envelope.child("data", required=True)
    source = envelope.child("source")
    event = data.text("event") if data else None
    inner = data.data.get("payload") if data else None
    if data is not None and not (isinstance(inner, dict) and isinstance(inner.get("order"), dict)):
        what = f"event {event!r}" if event else "this webhook"
        envelope.problems.append(
            Problem(
                _P,
                f"required field is missing: {what} carries no order "
                "(subscribe checkout.order.placed or the state_enter.order*.state.* events)",
            )
        )
    if envelope.problems:
        raise InvalidInput("the body is not a shopware order webhook", envelope.problems)
    assert data is not None and isinstance(inner, dict)
    order = Body(inner["order"], _P)
    key = headers.get("x-shopware-event-id") or (source.text("eventId") if source else None)
    return Delivery(order=to_order(shop, order, event), delivery_key=key, topic=event, raw=payload)


def states_of(order: Body, event: str | None) -> dict[str, str | None]:
    """The order's three states, the one an ``state_enter.*`` event names taking precedence."""
    states = {
        "order": _state(order.child("stateMachineState")),
        "transaction": _state(_last(order.children("transactions"))),
        "delivery": _state(_first(order.children("deliveries"))),
    }
    if event and event.startswith("state_enter."):
        machine, _, state = event.removeprefix("state_enter.").partition(".state.")
        key = {"order": "order", "order_transaction": "transaction", "order_delivery": "delivery"}.get(machine)
        if key and state:
            states[key] = state
    return states


def status_of(states: dict[str, str | None]) -> tuple[str, str]:
    """(the deciding ``machine.state``, canonical status)."""
    order, transaction, delivery = states["order"], states["transaction"], states["delivery"]
    if order in _ORDER:
        return f"order.{order}", _ORDER[order]
    if transaction in _TRANSACTION_FIRST:
        return f"transaction.{transaction}", _TRANSACTION_FIRST[transaction]
    if delivery in _DELIVERY:
        return f"delivery.{delivery}", _DELIVERY[delivery]
    if transaction in _TRANSACTION:
        return f"transaction.{transaction}", _TRANSACTION[transaction]
    if order:
        return f"order.{order}", "new"
    return "", "new"


def to_order(shop: Shop, b: Body, event: str | None = None) -> Order:
    """The canonical Order of a Shopware order entity (as app webhooks serialise it)."""
    states = states_of(b, event)
    token, default = status_of(states)
    currency = b.child("currency", required=True)
    price = b.child("price")
    tax_status = b.text("taxStatus") or (price.text("taxStatus") if price else None)
    net = tax_status == "net"
    tax_free = tax_status == "tax-free"  # Shopware charges no tax whatever the lines' calculated taxes say
    created_at = b.time("orderDateTime") or b.time("createdAt", required=True)
    updated_at = b.time("updatedAt")
    customer = b.child("orderCustomer")
    billing = _billing(b)
    transaction = _last(b.children("transactions"))
    delivery = _first(b.children("deliveries"))
    shipping_address = delivery.child("shippingOrderAddress") if delivery else None
    taxes = [t.amount("tax") for t in price.children("calculatedTaxes")] if price else []
    shipping, shipping_tax, shipping_rate = _shipping(b, net)
    data: dict[str, Any] = {
        "id": b.text("id", required=True),
        "number": b.text("orderNumber", required=True),
        "channel": PLATFORM,
        "status": mapped_status(shop, PLATFORM, token, default),
        "currency": currency.text("isoCode", required=True) if currency else None,
        "total": b.amount("amountTotal") if b.has("amountTotal") else _req_amount(b, price, "totalPrice"),
        "subtotal": b.amount("positionPrice") if b.has("positionPrice") else _opt_amount(price, "positionPrice"),
        "shipping_total": shipping,
        "shipping_tax": shipping_tax,
        "shipping_tax_rate": shipping_rate,
        "tax_total": sum((t for t in taxes if t is not None), Decimal("0")) if taxes else None,
        "created_at": created_at,
        "updated_at": updated_at,
        "paid_at": _when(transaction, updated_at, created_at) if states["transaction"] in PAID else None,
        "shipped_at": _when(delivery, updated_at, created_at) if states["delivery"] in SHIPPED else None,
        "customer": {
            "id": customer.text("customerId") if customer else None,
            "email": customer.text("email") if customer else None,
            "first_name": customer.text("firstName") if customer else None,
            "last_name": customer.text("lastName") if customer else None,
            "phone": billing.get("phone") if billing else None,
        },
        "billing_address": billing,
        "shipping_address": _address(shipping_address) or None,
        "line_items": [_line(item, net, tax_free) for item in b.children("lineItems") if not item.has("parentId")],
        "language": _language(b),
        "tags": _tags(b),
        "note": (b.text("customerComment") or "")[:2000] or None,
    }
    return build_order(PLATFORM, data, b, _SOURCES)


def _state(entity: Body | None) -> str | None:
    if entity is None:
        return None
    machine = entity.child("stateMachineState") if entity.has("stateMachineState") else entity
    return machine.text("technicalName") if machine else None


def _first(items: list[Body]) -> Body | None:
    return items[0] if items else None


def _last(items: list[Body]) -> Body | None:
    # Shopware lists an order's transactions oldest first: the last one is the current payment.
    return items[-1] if items else None


def _when(entity: Body | None, updated_at: datetime | None, created_at: datetime | None) -> datetime | None:
    return (entity.time("updatedAt") if entity else None) or updated_at or created_at


def _req_amount(b: Body, price: Body | None, key: str) -> Decimal | None:
    if price is None or not price.has(key):
        b.problem("amountTotal", "required field is missing")
        return None
    return price.amount(key)


def _opt_amount(body: Body | None, key: str) -> Decimal | None:
    return body.amount(key) if body is not None and body.has(key) else None


def _shipping(b: Body, net: bool) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(shipping gross, its tax, its one rate or None) from ``shippingCosts`` as Shopware calculated them."""
    costs = b.child("shippingCosts")
    total = _opt_amount(costs, "totalPrice")
    taxes = costs.children("calculatedTaxes") if costs else []
    tax = sum((t.amount("tax") or Decimal("0") for t in taxes), Decimal("0")) if taxes else None
    rates = {t.amount("taxRate") for t in taxes if (t.amount("tax") or Decimal(0)) != 0}
    if b.has("shippingTotal"):
        total = b.amount("shippingTotal")
    if net and total is not None and tax:
        total += tax
    return total, tax, rates.pop() if len(rates) == 1 else None


def _billing(b: Body) -> dict[str, Any] | None:
    billing = b.child("billingAddress")
    if billing is None:
        wanted = b.text("billingAddressId")
        billing = next((a for a in b.children("addresses") if a.text("id") == wanted), None)
    return _address(billing)


def _address(a: Body | None) -> dict[str, Any] | None:
    if a is None:
        return None
    country = a.child("country")
    state = a.child("countryState")
    fields = {
        "name": name_of(a.text("firstName"), a.text("lastName")),
        "company": a.text("company"),
        "street": a.text("street"),
        "street2": a.text("additionalAddressLine1"),
        "zip": a.text("zipcode"),
        "city": a.text("city"),
        "state": state.text("name") if state else None,
        "country": country.text("iso") if country else None,
        "phone": a.text("phoneNumber"),
    }
    return address(a, fields, "country.iso")


def _line(item: Body, net: bool, tax_free: bool = False) -> dict[str, Any]:
    """A line as Shopware calculated it: ``totalPrice`` is the line total, ``price.calculatedTaxes``
    its tax; with ``taxStatus: net`` both prices are net and the line's own tax is added.
    Promotions are lines of their own with a negative price (vouchers, as Shopware shows them)."""
    quantity = item.amount("quantity", required=True)
    unit = item.amount("unitPrice", required=True)
    total = item.amount("totalPrice")
    price = item.child("price")
    taxes = price.children("calculatedTaxes") if price else []
    if tax_free:
        taxes = []
    rate = next((t.amount("taxRate") for t in taxes if t.has("taxRate")), None)
    tax = sum((t.amount("tax") or Decimal("0") for t in taxes), Decimal("0")) if taxes else None
    if net and tax and unit is not None and quantity is not None and quantity > 0:
        unit = unit_price(unit * quantity + tax, quantity)
        total = total + tax if total is not None else None
    payload = item.child("payload")
    return {
        "sku": payload.text("productNumber") if payload else None,
        "name": item.text("label", required=True),
        "quantity": quantity,
        "unit_price": unit,
        "total": total,
        "tax": tax,
        "tax_rate": rate if rate is not None else Decimal("0"),
    }


def _language(b: Body) -> str | None:
    lang = b.child("language")
    locale = lang.child("locale") if lang else None
    return language(locale.text("code")) if locale else None


def _tags(b: Body) -> list[str]:
    names = [t.text("name") for t in b.children("tags")]
    return [n for n in names if n and len(n) <= 64][:50]
