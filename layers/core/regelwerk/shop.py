"""The Shop: whose rules run, in which time zone, language and currency, from which sender."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from .values import STRICT, Currency, Slug


class Sender(BaseModel):
    model_config = STRICT

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    name: str | None = Field(default=None, max_length=100)


class OwnerContact(BaseModel):
    model_config = STRICT

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    phone: str | None = Field(default=None, max_length=40)


class Shop(BaseModel):
    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = "Europe/Berlin"
    locale: str = Field(default="de_DE", pattern=r"^[a-z]{2}(_[A-Z]{2})?$")
    currency: Currency = "EUR"
    customer_matching: Literal["email", "address"] = "email"
    sender: Sender | None = None
    owner: OwnerContact = Field(default_factory=OwnerContact)
    languages: list[str] = Field(default_factory=lambda: ["de", "en"], min_length=1)
    address_lines: list[str] = Field(default_factory=list, max_length=6)
    tax_id: str | None = Field(default=None, max_length=40)
    iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
    bic: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")

    @field_validator("time_zone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from exc
        return value

    @property
    def language(self) -> str:
        """The shop's default language: the fallback for templates."""
        return self.locale.split("_")[0]

    def to_context(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "time_zone": self.time_zone,
            "locale": self.locale,
            "currency": self.currency,
            "language": self.language,
            "owner_email": self.owner.email,
            "owner_phone": self.owner.phone,
            "sender_email": self.sender.email if self.sender else None,
            "address_lines": self.address_lines,
            "tax_id": self.tax_id,
            "iban": self.iban,
            "bic": self.bic,
        }
