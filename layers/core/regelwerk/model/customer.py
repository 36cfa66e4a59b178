"""The Customer: one buyer of one shop, with the aggregates rules ask about."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, Field

from .money import Money
from .order import Address, Order
from .values import STRICT


class Customer(BaseModel):
    model_config = STRICT

    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    language: str | None = None
    country: str | None = None
    external_id: str | None = None
    order_count: int = 0
    total_spent: dict[str, str] = Field(default_factory=dict)  # currency -> decimal string
    first_order_at: AwareDatetime | None = None
    last_order_at: AwareDatetime | None = None
    tags: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)

    def to_context(self) -> dict:
        data = self.model_dump(mode="json")
        data["name"] = " ".join(p for p in (self.first_name, self.last_name) if p) or None
        return data


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def normalise_address(address: Address) -> str:
    """A postal address reduced to what identifies it: case, spacing, umlauts and ß, 'Str.' vs 'Straße'."""
    parts = [
        address.name or "",
        address.street or "",
        address.house_number or "",
        address.zip or "",
        address.city or "",
        address.country,
    ]
    # NFC first: a decomposed "u + combining diaeresis" (as macOS sends it) must become "ue" like "ü"
    text = unicodedata.normalize("NFC", " ".join(parts)).casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("strasse", "str").replace("str.", "str")
    return "".join(c for c in text if c.isalnum())


def customer_id_for(shop_id: str, order: Order, matching: str, key: bytes | None = None) -> str:
    """A stable customer id derived from what the shop matches customers on.

    Deriving the id (instead of looking it up in an index) makes the customer upsert a
    single conditional write: two concurrent first orders of one buyer land on one record.
    With the shop's customer-id key it is an HMAC, so no one can derive it from an e-mail address
    without the key; without one (``key=None``) it is the legacy unkeyed SHA-256 (docs/privacy.md).
    """
    if matching == "email" and order.customer.email:
        basis = "email:" + normalise_email(order.customer.email)
    elif order.billing_address or order.shipping_address:
        basis = "address:" + normalise_address(order.billing_address or order.shipping_address)  # type: ignore[arg-type]
    elif order.customer.email:
        basis = "email:" + normalise_email(order.customer.email)
    else:
        basis = "order:" + order.id  # nothing to match on: a customer of one order
    return _customer_id(shop_id, basis, key)


def customer_id_for_email(shop_id: str, email: str, key: bytes | None = None) -> str:
    """The id an order with only this e-mail address would give its customer (CSV import of new customers)."""
    return _customer_id(shop_id, "email:" + normalise_email(email), key)


def _customer_id(shop_id: str, basis: str, key: bytes | None) -> str:
    text = f"{shop_id}\x1f{basis}".encode()
    if key:
        return "cus_" + hmac.new(key, text, hashlib.sha256).hexdigest()[:24]
    return "cus_" + hashlib.sha256(text).hexdigest()[:24]


def spend_change(previous: Order | None, order: Order) -> Decimal:
    """What this order event changes in the customer's spend: a new order its total less what was
    refunded on it already; an update minus what was refunded since (spend is net of refunds)."""
    if previous is None:
        return order.net_total
    return -(order.refunded_total - previous.refunded_total) if order.currency == previous.currency else Decimal(0)


def apply_order(
    customer: Customer | None, customer_id: str, order: Order, *, new_order: bool, previous: Order | None = None
) -> Customer:
    """The customer record after this order: contact details refreshed, aggregates counted once per
    order, spend net of refunds (``previous`` is the order as it was stored, for an update)."""
    base = customer or Customer(id=customer_id)
    info = order.customer
    address = order.shipping_address or order.billing_address
    updated = base.model_copy(deep=True)
    updated.email = info.email or base.email
    updated.first_name = info.first_name or base.first_name
    updated.last_name = info.last_name or base.last_name
    updated.phone = info.phone or base.phone or (address.phone if address else None)
    updated.language = base.language or info.language or order.language
    updated.country = address.country if address else base.country
    updated.external_id = info.id or base.external_id
    change = spend_change(None if new_order else previous, order) if new_order or previous else Decimal(0)
    if change:
        spent = Money.of(base.total_spent.get(order.currency, "0"), order.currency) + Money(change, order.currency)
        updated.total_spent = {**base.total_spent, order.currency: str(spent.quantized().amount)}
    if new_order:
        updated.order_count = base.order_count + 1
        updated.total_spent.setdefault(order.currency, str(Money(Decimal(0), order.currency).quantized().amount))
        created: datetime = order.created_at
        updated.first_order_at = min(filter(None, [base.first_order_at, created]))
        updated.last_order_at = max(filter(None, [base.last_order_at, created]))
    return updated


ERASED = "erased"  # what stands where a name was, after a GDPR erasure


def erase_order(order: Order) -> Order:
    """The order without the customer's personal data: the country of each address stays, the rest goes."""
    info = order.customer.model_copy(
        update={
            "id": None,
            "email": None,
            "phone": None,
            "first_name": ERASED if order.customer.first_name else None,
            "last_name": ERASED if order.customer.last_name else None,
        }
    )
    addresses = {}
    for key in ("billing_address", "shipping_address"):
        address = getattr(order, key)
        if address is not None:
            # the country stays (it is no one's identity, and reports count by it); the rest goes
            addresses[key] = type(address)(country=address.country, name=ERASED)
    return order.model_copy(update={"customer": info, "note": None, **addresses})


def erased_profile(customer: Customer) -> Customer:
    """The customer without personal data: language, country, tags, groups and the aggregates stay."""
    return customer.model_copy(
        update={
            "email": None,
            "phone": None,
            "external_id": None,
            "first_name": ERASED if customer.first_name else None,
            "last_name": ERASED if customer.last_name else None,
        }
    )
