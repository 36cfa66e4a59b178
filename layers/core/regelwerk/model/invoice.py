"""The Invoice: number, order, customer, dates, amount, status and dunning level."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from .values import STRICT, Amount, Currency, Id

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
    status: InvoiceStatus = "open"
    issued_at: AwareDatetime
    due_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    dunning_level: int = Field(default=0, ge=0, le=10)
    payment_url: str | None = Field(default=None, max_length=2000, pattern=r"^https://")
