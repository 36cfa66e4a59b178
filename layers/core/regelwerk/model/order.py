"""The canonical Order: what every shop platform's order becomes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from .money import Money
from .values import STRICT, Amount, Country, Currency, Id, Slug

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
    model_config = STRICT

    sku: str | None = Field(default=None, max_length=100)
    name: str = Field(max_length=500)
    quantity: Annotated[int, Field(gt=0, le=1_000_000)]
    unit_price: Amount
    tax_rate: Annotated[Decimal, Field(ge=0, le=100)] = Decimal("0")

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


class CustomerInfo(BaseModel):
    """The buyer as the shop knows them on this order."""

    model_config = STRICT

    id: Id | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


class Order(BaseModel):
    model_config = STRICT

    id: Id
    number: str = Field(min_length=1, max_length=64)
    channel: Slug = "regelwerk"
    status: Slug = "new"
    currency: Currency
    total: Amount
    subtotal: Amount | None = None
    shipping_total: Amount | None = None
    tax_total: Amount | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    paid_at: AwareDatetime | None = None
    shipped_at: AwareDatetime | None = None
    customer: CustomerInfo = Field(default_factory=CustomerInfo)
    billing_address: Address | None = None
    shipping_address: Address | None = None
    line_items: list[LineItem] = Field(default_factory=list, max_length=1000)
    payment_url: str | None = Field(default=None, max_length=2000, pattern=r"^https://")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _total_not_negative(self) -> Order:
        if self.total < 0:
            raise ValueError("total must not be negative")
        return self

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

        for key in ("total", "subtotal", "shipping_total", "tax_total"):
            data[key] = money(getattr(self, key))
        for item, model in zip(data["line_items"], self.line_items, strict=True):
            item["unit_price"] = money(model.unit_price)
            item["total"] = money(model.total)
            item["tax_rate"] = str(model.tax_rate)
        data["item_count"] = sum(i.quantity for i in self.line_items)
        data["skus"] = [i.sku for i in self.line_items if i.sku]
        return data


class OrderEvent(BaseModel):
    """The canonical order event as posted to ``/v1/shops/{shop}/events/regelwerk``."""

    model_config = STRICT

    event_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    order: Order
