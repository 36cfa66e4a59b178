"""The Invoice: number, order, customer, dates, amount, status and dunning level."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .order import Address
from .values import STRICT, Amount, Currency, Id, Time

InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible", "cancelled"]


class Invoice(BaseModel):
    model_config = STRICT

    id: Id
    number: str = Field(min_length=1, max_length=64)
    order_id: Id | None = None
    customer_id: Id | None = None
    currency: Currency
    amount: Amount
    amount_paid: Amount | None = None
    amount_refunded: Amount | None = None  # given back on it (Stripe's charge.refunded)
    status: InvoiceStatus = "open"
    issued_at: Time
    due_at: Time
    paid_at: Time | None = None
    dunning_level: int = Field(default=0, ge=0, le=10)
    payment_url: str | None = Field(default=None, max_length=2000, pattern=r"^https://")
    # the buyer as the invoice names them (Stripe's customer_email, customer_name, customer_address):
    # a payment reminder reaches them without an order. Kept with the invoice as tax law keeps invoices.
    customer_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    customer_name: str | None = Field(default=None, max_length=200)
    billing_address: Address | None = None
