"""The canonical Order: what every shop platform's order becomes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from .money import Money, minor_units, to_decimal
from .values import STRICT, Amount, Country, Currency, Id, Quantity, Slug, Time

# Canonical statuses; shops may add their own slugs (e.g. "waiting_for_stock").
CANONICAL_STATUSES = ("new", "paid", "shipped", "completed", "cancelled", "refunded", "on_hold")


class Address(BaseModel):
    model_config = STRICT

    name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    street: str | None = Field(default=None, max_length=200)
    house_number: str | None = Field(default=None, max_length=20)
    street2: str | None = Field(default=None, max_length=200)
    zip: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    country: Country
    phone: str | None = Field(default=None, max_length=40)


class LineItem(BaseModel):
    """One line of an order, as the platform charged it. Amounts include VAT (the canonical
    convention); ``total`` is what the customer pays for the line after the line's discounts.

    ``quantity`` is a Decimal (1.5 kg of cheese, 2.25 m of fabric), ``unit`` says of what.
    ``unit_price`` keeps the platform's full precision (3.225 for 2 pieces at 6.45): documents
    print ``total``, the platform's own line amount, never ``unit_price * quantity`` rounded.
    Without ``total`` (a canonical order that does not send it) the line total is
    ``unit_price * quantity - discount``, rounded to the currency's minor unit.
    """

    model_config = STRICT

    sku: str | None = Field(default=None, max_length=100)
    name: str = Field(max_length=500)
    quantity: Quantity
    unit: str | None = Field(default=None, max_length=20)
    unit_price: Amount
    total: Amount | None = None
    discount: Annotated[Decimal, BeforeValidator(to_decimal), Field(ge=0)] | None = None
    tax: Amount | None = None
    tax_rate: Annotated[Decimal, Field(ge=0, le=100)] = Decimal("0")

    def line_total(self, currency: str) -> Decimal:
        """The line's gross amount after its discounts: the platform's, else computed and rounded."""
        if self.total is not None:
            return self.total
        gross = self.unit_price * self.quantity - (self.discount or Decimal(0))
        return Money(gross, currency).quantized().amount


class CustomerInfo(BaseModel):
    """The buyer as the shop knows them on this order."""

    model_config = STRICT

    id: Id | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


class RefundLine(BaseModel):
    """A line (or part of one) given back: what the platform refunded for it, VAT included."""

    model_config = STRICT

    sku: str | None = Field(default=None, max_length=100)
    name: str = Field(max_length=500)
    quantity: Quantity
    total: Annotated[Decimal, BeforeValidator(to_decimal), Field(ge=0)]  # gross, positive
    tax_rate: Annotated[Decimal, Field(ge=0, le=100)] = Decimal("0")


class Refund(BaseModel):
    """Money given back on an order, as the platform recorded it (one refund of several perhaps).

    ``amount`` is what the customer got back, VAT included, positive; ``lines`` and ``shipping``
    say for what, where the platform says (an amount-only refund has neither).
    """

    model_config = STRICT

    id: Id
    created_at: Time
    amount: Annotated[Decimal, BeforeValidator(to_decimal), Field(gt=0)]
    reason: str | None = Field(default=None, max_length=500)
    lines: list[RefundLine] = Field(default_factory=list, max_length=1000)
    shipping: Annotated[Decimal, BeforeValidator(to_decimal), Field(ge=0)] | None = None

    def to_context(self, currency: str) -> dict[str, Any]:
        def money(value: Decimal | None) -> dict | None:
            return None if value is None else Money(value, currency).as_dict()

        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "amount": money(self.amount),
            "reason": self.reason,
            "shipping": money(self.shipping),
            "lines": [
                {
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": str(line.quantity),
                    "total": money(line.total),
                    "tax_rate": str(line.tax_rate),
                }
                for line in self.lines
            ],
        }


class ShopMoney(BaseModel):
    """The order in the shop's own (accounting) currency, where the customer paid in another one.

    The order's own amounts are in the currency the customer paid in (Shopify's presentment
    money): documents and messages show those. These are the shop's figures for its books and
    the VAT total in the accounting currency an e-invoice states (EN 16931 BT-6 / BT-111).
    """

    model_config = STRICT

    currency: Currency
    total: Amount
    tax_total: Amount | None = None


class Order(BaseModel):
    """An order as the platform charged it. Every amount is the platform's own figure, in
    ``currency`` (what the customer paid in), VAT included:

    ``total = sum(line totals) + shipping_total + fee_total - (discount_total - line discounts)``

    ``discount_total`` is every discount, the ones already taken off line totals included;
    ``shipping_tax`` / ``shipping_tax_rate`` are the shipping's VAT as charged, when the platform
    says. ``Order.discrepancy()`` says when a body does not add up (the run log shows it).
    """

    model_config = STRICT

    id: Id
    number: str = Field(min_length=1, max_length=64)
    channel: Slug = "regelwerk"
    status: Slug = "new"
    currency: Currency
    total: Amount
    subtotal: Amount | None = None
    shipping_total: Amount | None = None
    shipping_tax: Amount | None = None
    shipping_tax_rate: Annotated[Decimal, Field(ge=0, le=100)] | None = None
    fee_total: Amount | None = None
    discount_total: Annotated[Decimal, BeforeValidator(to_decimal), Field(ge=0)] | None = None
    tax_total: Amount | None = None
    shop_money: ShopMoney | None = None
    created_at: Time
    updated_at: Time | None = None
    paid_at: Time | None = None
    shipped_at: Time | None = None
    customer: CustomerInfo = Field(default_factory=CustomerInfo)
    billing_address: Address | None = None
    shipping_address: Address | None = None
    line_items: list[LineItem] = Field(default_factory=list, max_length=1000)
    payment_url: str | None = Field(default=None, max_length=2000, pattern=r"^https://")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=2000)
    refunds: list[Refund] = Field(default_factory=list, max_length=100)
    # the buyer's VAT id (B2B: reverse charge within the EU, printed on the invoice)
    buyer_vat_id: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")

    @model_validator(mode="after")
    def _total_not_negative(self) -> Order:
        if self.total < 0:
            raise ValueError("total must not be negative")
        return self

    @property
    def refunded_total(self) -> Decimal:
        """What the customer got back, all refunds together."""
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def net_total(self) -> Decimal:
        """What the customer paid and kept paid: the total less the refunds."""
        return self.total - self.refunded_total

    def line_discounts(self) -> Decimal:
        return sum((i.discount or Decimal(0) for i in self.line_items), Decimal(0))

    def discrepancy(self) -> str | None:
        """Why the order's amounts do not add up to its total, or None when they do.

        Lines + shipping + fees - discounts not already in the lines = total, allowing the
        platform one minor unit of rounding per line and per amount. Platform data is the
        truth about what was charged: a discrepancy is reported, never corrected.
        """
        if not self.line_items:
            return None
        zero = Decimal(0)
        lines = sum((i.line_total(self.currency) for i in self.line_items), zero)
        order_discount = (self.discount_total or zero) - self.line_discounts()
        if order_discount < 0:  # the lines' discounts are more than the order's: the platform sent both ways
            order_discount = zero
        expected = lines + (self.shipping_total or zero) + (self.fee_total or zero) - order_discount
        quantum = Decimal(1).scaleb(-minor_units(self.currency))
        tolerance = quantum * (len(self.line_items) + 3)
        gap = self.total - expected
        if abs(gap) <= tolerance:
            return None
        parts = [f"lines {lines}"]
        for label, value in (("shipping", self.shipping_total), ("fees", self.fee_total)):
            if value:
                parts.append(f"+ {label} {value}")
        if order_discount:
            parts.append(f"- discounts {order_discount}")
        return (
            f"the amounts do not add up: {' '.join(parts)} = {expected} {self.currency}, "
            f"but the order total is {self.total} (a difference of {gap}); stored as the platform sent it"
        )

    @property
    def total_money(self) -> Money:
        return Money(self.total, self.currency)

    @property
    def changed_at(self) -> datetime:
        return self.updated_at or self.created_at

    def to_context(self) -> dict[str, Any]:
        """The order as rules and templates see it: money as {amount, currency}, times as ISO strings."""
        data = self.model_dump(mode="json", exclude_none=False)

        def money(value: Decimal | None) -> dict | None:
            return None if value is None else Money(value, self.currency).as_dict()

        for key in ("total", "subtotal", "shipping_total", "shipping_tax", "fee_total", "discount_total", "tax_total"):
            data[key] = money(getattr(self, key))
        if self.shipping_tax_rate is not None:
            data["shipping_tax_rate"] = str(self.shipping_tax_rate)
        for item, model in zip(data["line_items"], self.line_items, strict=True):
            # the unit price at full precision: templates round it for display, sums use the line total
            item["unit_price"] = {"amount": str(model.unit_price), "currency": self.currency}
            item["total"] = money(model.line_total(self.currency))
            item["discount"] = money(model.discount)
            item["tax"] = money(model.tax)
            item["tax_rate"] = str(model.tax_rate)
            item["quantity"] = str(model.quantity)
        if self.shop_money is not None:
            data["shop_money"] = {
                "currency": self.shop_money.currency,
                "total": Money(self.shop_money.total, self.shop_money.currency).as_dict(),
                "tax_total": None
                if self.shop_money.tax_total is None
                else Money(self.shop_money.tax_total, self.shop_money.currency).as_dict(),
            }
        data["item_count"] = str(sum((i.quantity for i in self.line_items), Decimal(0)))
        data["refunds"] = [r.to_context(self.currency) for r in self.refunds]
        data["refunded_total"] = money(self.refunded_total)
        data["net_total"] = money(self.net_total)
        data["skus"] = [i.sku for i in self.line_items if i.sku]
        return data


class OrderEvent(BaseModel):
    """The canonical order event as posted to ``/v1/shops/{shop}/events/regelwerk``."""

    model_config = STRICT

    event_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    order: Order
