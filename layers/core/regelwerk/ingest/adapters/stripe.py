"""Stripe webhooks for invoices and subscriptions (``POST /v1/shops/{shop}/events/stripe``).

* The body is a Stripe event, ``{"id": "evt_...", "type": ..., "created": <unix>, "data":
  {"object": {...}}}``, its amounts in the currency's minor unit as Stripe's API counts it.
* Authenticated by ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]``: hex HMAC-SHA256 of
  ``"<t>.<raw body>"`` under the endpoint's signing secret (``whsec_...``). Any ``v1`` may match
  (Stripe sends two while an endpoint secret is being rolled); the shop's ``previous_secret``
  is accepted until ``previous_valid_until``, as for the other platforms. ``t`` is covered by
  the signature and must lie within 300 s of now, either way: Stripe's own tolerance.
* Deduplicated on the event id (the same on every retry).

Invoice events become the canonical Invoice (its status from the event type) and run through
``process_invoice``, so ``invoice.sent`` and ``invoice.paid`` fire as for any invoice:

| Stripe event                          | canonical status                          |
|---------------------------------------|-------------------------------------------|
| ``invoice.finalized``, ``invoice.sent`` | open                                    |
| ``invoice.payment_failed``            | open; fires ``invoice.payment_failed`` only (never ``invoice.sent``) |
| ``invoice.paid``                      | paid, ``paid_at`` from ``status_transitions.paid_at`` |
| ``invoice.marked_uncollectible``      | uncollectible                             |
| ``invoice.voided``                    | void                                      |

Stripe does not deliver events in order (``invoice.paid`` may come before ``invoice.finalized``):
an event never moves a stored invoice back (paid or void stays so, uncollectible is not
reopened). ``customer.subscription.created`` fires ``subscription.started`` and
``customer.subscription.deleted`` fires ``subscription.cancelled``; ``charge.refunded`` for the
charge of a stored invoice records ``amount_refunded`` on it and fires ``invoice.refunded`` (with
``event.refund``) when more was refunded than before (a charge of no invoice, or of an invoice
Regelwerk has not stored, is answered ``200 {"ignored": ...}``); any other event type is
answered ``200 {"ignored": "<type>"}`` and writes nothing. docs/platforms.md lists the fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from pydantic import ValidationError

from ...errors import InvalidInput, Problem, ServiceUnavailable, Unauthorized, pydantic_problems
from ...model.invoice import Invoice
from ...model.money import Money
from ...model.shop import Shop
from ...store.customers import customer_id_of_email
from ...store.shops import load_shop
from . import signatures
from .body import Body, address, parse_json

PLATFORM = "stripe"
SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
MAX_SIGNATURES = 8  # Stripe sends one v1, two while a secret is rolled; more is not a Stripe delivery
DUE_AFTER = timedelta(days=14)  # an invoice without due_date (charged automatically) is due 14 days after issue

INVOICE_STATUSES = {
    "invoice.finalized": "open",
    "invoice.sent": "open",
    "invoice.payment_failed": "open",
    "invoice.paid": "paid",
    "invoice.marked_uncollectible": "uncollectible",
    "invoice.voided": "void",
}
SUBSCRIPTION_EVENTS = {
    "customer.subscription.created": "subscription.started",
    "customer.subscription.deleted": "subscription.cancelled",
}
# Stripe's API exponents (https://docs.stripe.com/currencies): these count whole units, these
# thousandths, every other currency hundredths, ISK, HUF and TWD included, which Stripe keeps
# two-decimal for compatibility although ISO 4217 or the card networks say otherwise.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

_O = "$.data.object"
_INVOICE_SOURCES = {
    "$.id": f"{_O}.id",
    "$.number": f"{_O}.number",
    "$.order_id": f"{_O}.metadata.order_id",
    "$.customer_id": f"{_O}.customer_email",
    "$.currency": f"{_O}.currency",
    "$.amount": f"{_O}.total",
    "$.amount_paid": f"{_O}.amount_paid",
    "$.issued_at": f"{_O}.created",
    "$.due_at": f"{_O}.due_date",
    "$.paid_at": f"{_O}.status_transitions.paid_at",
    "$.payment_url": f"{_O}.hosted_invoice_url",
    "$.customer_email": f"{_O}.customer_email",
    "$.customer_name": f"{_O}.customer_name",
    "$.billing_address": f"{_O}.customer_address",
}


@dataclass(frozen=True)
class StripeEvent:
    """One Stripe event read: its id and type, and the canonical invoice or subscription it carries."""

    event_id: str
    type: str
    invoice: Invoice | None = None
    subscription: dict[str, Any] | None = None
    trigger: str | None = None  # subscription.started / subscription.cancelled
    refund: dict[str, Any] | None = None  # charge.refunded: {invoice_id, amount_refunded, currency, refund}


@dataclass(frozen=True)
class Ignored:
    """An event type Regelwerk does not use: answered 200 so that Stripe does not retry it; nothing is written."""

    type: str
    status_code: int = field(default=200, init=False)

    def as_dict(self) -> dict[str, Any]:
        return {"ignored": self.type}


# ------------------------------------------------------------------ authentication


def authenticate(shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop:
    """The shop, if ``Stripe-Signature`` signs ``raw`` under its Stripe secret within 300 s of ``now``."""

    shop = load_shop(shop_id)
    timestamp, digests = signature_header(headers.get(SIGNATURE_HEADER.lower()))
    signed = f"{timestamp}.".encode() + raw
    refusal: Unauthorized | None = None
    for digest in digests:
        try:
            signatures.verify(shop, PLATFORM, signed, digest, header=SIGNATURE_HEADER, now=now)
        except Unauthorized as exc:
            refusal = refusal or exc
            continue
        except ServiceUnavailable as exc:
            raise ServiceUnavailable(
                "the shop's stripe secret cannot be read right now (see the invoice-status log)"
            ) from exc
        break
    else:
        assert refusal is not None
        raise refusal
    age = int(now.timestamp()) - timestamp
    if age > TOLERANCE_SECONDS:
        raise Unauthorized(
            f"stale {SIGNATURE_HEADER}: signed {age} s ago, more than {TOLERANCE_SECONDS} s "
            "(a replayed delivery, or a clock that is wrong)"
        )
    if -age > TOLERANCE_SECONDS:
        raise Unauthorized(
            f"{SIGNATURE_HEADER} timestamp is {-age} s in the future, more than {TOLERANCE_SECONDS} s "
            "(a clock is wrong)"
        )
    return shop


def signature_header(value: str | None) -> tuple[int, list[bytes]]:
    """``t`` and the ``v1`` digests of a ``Stripe-Signature`` header; 401 when it is missing or malformed.

    Other schemes (``v0``, Stripe's test-mode legacy) are skipped, as Stripe's libraries do.
    """
    if not value or not value.strip():
        raise Unauthorized(f"missing signature: the {SIGNATURE_HEADER} header is required")
    expected = f"malformed {SIGNATURE_HEADER}: expected t=<unix time>,v1=<hex HMAC-SHA256>"
    timestamp: int | None = None
    digests: list[bytes] = []
    for part in value.split(","):
        key, sep, text = part.strip().partition("=")
        if not sep:
            raise Unauthorized(expected)
        if key == "t":
            if timestamp is not None or not (text.isascii() and text.isdigit()) or len(text) > 12:
                raise Unauthorized(expected)
            timestamp = int(text)
        elif key == "v1":
            try:
                digest = bytes.fromhex(text)
            except ValueError as exc:
                raise Unauthorized(expected) from exc
            if len(digest) != 32:
                raise Unauthorized(expected)
            digests.append(digest)
    if timestamp is None or not digests or len(digests) > MAX_SIGNATURES:
        raise Unauthorized(expected)
    return timestamp, digests


# ------------------------------------------------------------------ events


def parse(shop: Shop, headers: dict[str, str], raw: bytes) -> StripeEvent | Ignored:
    """The event's canonical content; 422 naming Stripe's fields when an event Regelwerk uses cannot be read."""
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise InvalidInput("the body must be a JSON object (a Stripe event)", [Problem("$", "not an object")])
    b = Body(payload)
    event_id, event_type = b.text("id", required=True), b.text("type", required=True)
    if event_id is None or event_type is None:
        raise InvalidInput("the body is not a Stripe event", b.problems)
    if event_type not in INVOICE_STATUSES and event_type not in SUBSCRIPTION_EVENTS and event_type != REFUNDED:
        return Ignored(event_type)
    data = b.child("data", required=True)
    obj = data.child("object", required=True) if data else None
    created = unix_time(b, "created")
    if obj is None or b.problems:
        raise InvalidInput(f"the body is not a Stripe {event_type} event", b.problems)
    if event_type == REFUNDED:
        refund = to_refund(obj)
        return StripeEvent(event_id, event_type, refund=refund) if refund else Ignored(f"{event_type} (no invoice)")
    kind = "invoice" if event_type in INVOICE_STATUSES else "subscription"
    if obj.value("object") != kind:
        obj.problem("object", f"expected {kind!r} for {event_type}")
        raise InvalidInput(f"the body is not a Stripe {event_type} event", b.problems)
    if kind == "invoice":
        invoice = to_invoice(shop, obj, INVOICE_STATUSES[event_type], created)
        return StripeEvent(event_id, event_type, invoice=invoice)
    subscription = to_subscription(obj)
    return StripeEvent(event_id, event_type, subscription=subscription, trigger=SUBSCRIPTION_EVENTS[event_type])


def to_invoice(shop: Shop, b: Body, status: str, event_created: datetime | None = None) -> Invoice:
    """The canonical Invoice of a Stripe invoice object, with the status its event stands for.

    ``customer_id`` is the shop's customer with the invoice's e-mail address (the id an order by
    that address gets), not Stripe's ``cus_...``: invoice rules then see ``customer.*`` of a
    customer the shop knows and can write to them.
    """

    currency = (b.text("currency", required=True) or "").upper()
    exponent = exponent_of(currency)
    created = unix_time(b, "created", required=True)
    transitions = b.child("status_transitions")
    finalized = unix_time(transitions, "finalized_at") if transitions else None
    issued = unix_time(b, "effective_at") or finalized or created
    due = unix_time(b, "due_date")
    paid_at = unix_time(transitions, "paid_at") if transitions else None
    metadata = b.child("metadata")
    email = b.text("customer_email")
    url = b.text("hosted_invoice_url")
    address = b.child("customer_address")
    data: dict[str, Any] = {
        "id": b.text("id", required=True),
        "number": b.text("number", required=True),
        "order_id": metadata.text("order_id") if metadata else None,
        "customer_id": customer_id_of_email(shop.id, email) if email else None,
        "currency": currency,
        "amount": minor_amount(b, "total", exponent, required=True),
        "amount_paid": minor_amount(b, "amount_paid", exponent),
        "status": status,
        "issued_at": issued,
        "due_at": due or (issued + DUE_AFTER if issued else None),
        "paid_at": (paid_at or event_created) if status == "paid" else None,
        "payment_url": url if url and url.startswith("https://") and len(url) <= 2000 else None,
        "customer_email": email,
        "customer_name": b.text("customer_name"),
        "billing_address": _address(address, b.text("customer_name")) if address else None,
    }
    if b.problems:
        raise InvalidInput("the body is not a Stripe invoice", b.problems)
    try:
        return Invoice.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(_INVOICE_SOURCES.get(p.path, f"{p.path} (canonical invoice)"), p.reason)
            for p in pydantic_problems(exc)
        ]
        raise InvalidInput("the Stripe invoice cannot be read", problems) from exc


def _address(a: Body, name: str | None) -> dict[str, Any] | None:
    """Stripe's address (``line1``, ``line2``, ``postal_code``, ``city``, ``state``, ``country``)."""
    fields = {
        "name": name,
        "street": a.text("line1"),
        "street2": a.text("line2"),
        "zip": a.text("postal_code"),
        "city": a.text("city"),
        "state": a.text("state"),
        "country": a.text("country"),
    }
    if not any(v for k, v in fields.items() if k != "name"):
        return None
    return address(a, fields, "country")


REFUNDED = "charge.refunded"


def to_refund(b: Body) -> dict[str, Any] | None:
    """A refunded charge of an invoice: the invoice id, what was refunded in all and the newest refund.

    A charge that belongs to no invoice (a one-off payment) is none: Regelwerk's invoices come from
    invoice events, and the charge alone is no invoice to correct."""
    invoice_id = _id_of(b, "invoice", b.value("invoice"))
    currency = (b.text("currency", required=True) or "").upper()
    if b.problems:
        raise InvalidInput("the body is not a Stripe charge", b.problems)
    if invoice_id is None:
        return None
    exponent = exponent_of(currency)
    total = minor_amount(b, "amount_refunded", exponent, required=True)
    refunds = b.child("refunds")
    data = refunds.children("data") if refunds else []
    newest = max(data, key=lambda r: r.value("created") or 0, default=None)
    created = unix_time(newest, "created") if newest else None
    if b.problems or total is None:
        raise InvalidInput("the body is not a Stripe charge", b.problems)
    return {
        "invoice_id": invoice_id,
        "amount_refunded": total,
        "currency": currency,
        "refund": {
            "id": (newest.text("id") if newest else None) or b.text("id"),
            "amount": Money(minor_amount(newest, "amount", exponent) or total, currency).as_dict()
            if newest
            else Money(total, currency).as_dict(),
            "reason": newest.text("reason") if newest else None,
            "created_at": created.isoformat() if created else None,
        },
    }


def to_subscription(b: Body) -> dict[str, Any]:
    """A Stripe subscription object as the rules' ``subscription``: ids, status, plan, amount, times.

    ``customer_id`` is Stripe's customer id (``cus_...``): a subscription carries no e-mail
    address to find the shop's customer by. Times are ISO 8601 in UTC; ``amount`` is what one
    period costs (every item's unit amount times its quantity), None for metered or tiered prices.
    """
    items = b.child("items")
    lines = items.children("data") if items else []
    first = lines[0] if lines else None
    price = (first.child("price") or first.child("plan")) if first else b.child("plan")
    recurring = price.child("recurring") if price else None
    currency = (b.text("currency") or (price.text("currency") if price else None) or "").upper() or None
    customer = b.value("customer", required=True)
    period_end = unix_time(b, "current_period_end") or (unix_time(first, "current_period_end") if first else None)
    details = b.child("cancellation_details")
    metadata = b.child("metadata")
    subscription = {
        "id": b.text("id", required=True),
        "customer_id": _id_of(b, "customer", customer),
        "status": b.text("status", required=True),
        "plan": (price.text("nickname") or price.text("lookup_key") or price.text("id")) if price else None,
        "price_id": price.text("id") if price else None,
        "product_id": _id_of(price, "product", price.value("product")) if price else None,
        "interval": (recurring.text("interval") if recurring else None) or (price.text("interval") if price else None),
        # the condition makes ``recurring or price`` a Body, which mypy cannot narrow
        "interval_count": _integer(cast(Body, recurring or price), "interval_count") if (recurring or price) else None,
        "quantity": _integer(first, "quantity") if first else _integer(b, "quantity"),
        "amount": _period_amount(lines, currency),
        "currency": currency,
        "started_at": _iso(unix_time(b, "start_date") or unix_time(b, "created")),
        "current_period_end": _iso(period_end),
        "trial_end": _iso(unix_time(b, "trial_end")),
        "cancel_at_period_end": b.value("cancel_at_period_end") is True,
        "canceled_at": _iso(unix_time(b, "canceled_at")),
        "ended_at": _iso(unix_time(b, "ended_at")),
        "cancellation_reason": details.text("reason") if details else None,
        "metadata": {str(k): str(v) for k, v in metadata.data.items() if isinstance(v, str)} if metadata else {},
    }
    if b.problems:
        raise InvalidInput("the body is not a Stripe subscription", b.problems)
    return subscription


# ------------------------------------------------------------------ reading Stripe's values


def exponent_of(currency: str) -> int:
    """How many decimals Stripe's integer amounts of this currency have."""
    return 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2


def minor_amount(b: Body, key: str, exponent: int, *, required: bool = False) -> Decimal | None:
    """An integer amount in minor units as the exact Decimal (24900 USD -> 249.00, 500 JPY -> 500)."""
    value = b.value(key, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        b.problem(key, "must be an integer amount in the currency's smallest unit")
        return None
    if abs(value) >= 10**17:
        b.problem(key, f"amount out of range: {value!r}")
        return None
    unit = Decimal(1).scaleb(-exponent)
    return Decimal(value).scaleb(-exponent).quantize(unit)


def unix_time(b: Body, key: str, *, required: bool = False) -> datetime | None:
    """A Unix time in seconds, as Stripe sends every time, as an aware UTC datetime."""
    value = b.value(key, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**11:
        b.problem(key, "must be a Unix time in seconds")
        return None
    return datetime.fromtimestamp(value, UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _id_of(b: Body, key: str, value: Any) -> str | None:
    """An id Stripe sends as a string, or inside the object when the field was expanded."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        b.problem(key, "must be an id string or an object with an id")
        return None
    return value.strip()


def _integer(b: Body, key: str) -> int | None:
    value = b.value(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        b.problem(key, "must be an integer")
        return None
    return value


def _period_amount(lines: list[Body], currency: str | None) -> dict[str, str] | None:
    if not lines or currency is None:
        return None
    exponent = exponent_of(currency)
    total = Decimal(0)
    for line in lines:
        price = line.child("price") or line.child("plan")
        quantity = _integer(line, "quantity")
        unit = minor_amount(price, "unit_amount", exponent) if price and price.has("unit_amount") else None
        if unit is None and price and price.has("amount"):
            unit = minor_amount(price, "amount", exponent)  # the legacy plan object
        if unit is None:
            return None
        total += unit * (1 if quantity is None else quantity)
    return Money(total, currency).as_dict()
