"""The Shop: whose rules run, in which time zone, language and currency, from which sender.

Also where its platforms' webhook secrets live (as references, never as text) and how their
statuses map onto Regelwerk's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, field_validator, model_validator

from .numbering import Numbering
from .values import STRICT, Amount, Currency, Slug

# Platforms that sign their webhooks with a per-shop secret (HMAC-SHA256 over the raw body);
# Billbee bodies are authenticated with the shop's ingest API key instead.
SIGNED_PLATFORMS = ("shopify", "woocommerce", "shopware", "stripe")
PlatformName = Literal["shopify", "woocommerce", "shopware", "billbee", "stripe"]


class Sender(BaseModel):
    model_config = STRICT

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    name: str | None = Field(default=None, max_length=100)


class OwnerContact(BaseModel):
    model_config = STRICT

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    phone: str | None = Field(default=None, max_length=40)


class SecretRef(BaseModel):
    """Where a secret lives, never the secret itself: an environment variable or an SSM SecureString parameter."""

    model_config = STRICT

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    ssm: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_.\-/]{1,1010}$")

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.ssm is None):
            raise ValueError("name exactly one place: {env: VARIABLE} or {ssm: /parameter/name}")
        if self.env and self.env.upper().startswith(("AWS_", "LAMBDA_", "_")):
            raise ValueError(f"{self.env} is one of AWS Lambda's own variables, not a place for a webhook secret")
        return self

    def __str__(self) -> str:
        return f"env {self.env}" if self.env else f"ssm {self.ssm}"


def _no_plain_text(value: object) -> object:
    if isinstance(value, str):
        raise ValueError(
            "give the secret as a reference, {env: VARIABLE} or {ssm: /parameter/name}; plain-text secrets are refused"
        )
    return value


Secret = Annotated[SecretRef, BeforeValidator(_no_plain_text)]


class PlatformSettings(BaseModel):
    """One platform's settings for a shop: its webhook secret (rotatable) and status overrides.

    ``statuses`` maps the platform's own status (Shopify ``partially_paid``, WooCommerce
    ``awaiting-shipment``, Billbee ``"13"``, ...) to a canonical status or the shop's own slug;
    it wins over the adapter's built-in table.
    """

    model_config = STRICT

    secret: Secret | None = None
    previous_secret: Secret | None = None
    previous_valid_until: AwareDatetime | None = None
    statuses: dict[Annotated[str, Field(min_length=1, max_length=64)], Slug] = Field(
        default_factory=dict, max_length=200
    )

    @model_validator(mode="after")
    def _rotation_has_a_deadline(self) -> PlatformSettings:
        if self.previous_secret is not None and self.previous_valid_until is None:
            raise ValueError("previous_valid_until is required with previous_secret: when the old secret stops working")
        if self.previous_valid_until is not None and self.previous_secret is None:
            raise ValueError("previous_valid_until is set but previous_secret is missing")
        return self


class DunningLevel(BaseModel):
    """One step of the shop's dunning: how many days after the due date, its name, and its fee."""

    model_config = STRICT

    level: int = Field(ge=1, le=9)
    after_days: int = Field(ge=0, le=365)
    name: Slug  # e.g. payment_reminder, first_dunning, final_notice: templates and rules can tell them apart
    fee: Amount = Decimal(0)

    def context(self, days_overdue: int | None = None) -> dict[str, Any]:
        """``dunning`` for rules and templates. Its ``fee`` is empty (``None``) on a level without
        one, so no text speaks of "a fee of 0,00 €"."""
        return {
            "level": self.level,
            "name": self.name,
            "fee": str(self.fee) if self.fee else None,
            "after_days": self.after_days,
            "days_overdue": days_overdue,
        }


class Dunning(BaseModel):
    """The shop's dunning levels, checked daily at ``run_at`` in the shop's time zone."""

    model_config = STRICT

    levels: list[DunningLevel] = Field(min_length=1, max_length=5)
    run_at: str = Field(default="07:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    @model_validator(mode="after")
    def _steps_in_order(self) -> Dunning:
        levels = [lv.level for lv in self.levels]
        days = [lv.after_days for lv in self.levels]
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError("levels must be numbered 1, 2, 3 ... in order")
        if days != sorted(set(days)) or len(set(days)) != len(days):
            raise ValueError("after_days must grow from one level to the next")
        return self

    def due_level(self, days_overdue: int) -> DunningLevel | None:
        """The highest level an invoice this many days past its due date has reached."""
        reached = [lv for lv in self.levels if days_overdue >= lv.after_days]
        return reached[-1] if reached else None


class Alerts(BaseModel):
    """How the owner hears of actions that ended in a dead-letter queue: a daily digest, or not at all."""

    model_config = STRICT

    dead_letters: Literal["daily", "off"] = "daily"
    at: str = Field(default="08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class MarketingLimit(BaseModel):
    """At most ``max`` marketing rules fire for one customer within ``per`` (across all rules)."""

    model_config = STRICT

    max: int = Field(ge=1, le=100)
    per: str = Field(pattern=r"^[1-9][0-9]{0,3}(m|h|d)$")


class LegalDetails(BaseModel):
    """What the law asks a business to say about itself (Impressum, §5 DDG; §35a GmbHG in business
    letters and e-mails): printed in every e-mail's footer when the shop gives it."""

    model_config = STRICT

    company: str | None = Field(default=None, max_length=200)  # the full legal name; else the shop's name
    registry_court: str | None = Field(default=None, max_length=100)  # e.g. Amtsgericht Leipzig
    registry_number: str | None = Field(default=None, max_length=40)  # e.g. HRB 12345
    managing_directors: list[str] = Field(default_factory=list, max_length=10)
    vat_id: str | None = Field(default=None, max_length=40)  # else the shop's tax_id
    tax_number: str | None = Field(default=None, max_length=40)


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
    legal: LegalDetails | None = None
    # small_business: §19 UStG, no VAT charged or shown (EN 16931 category E)
    vat_regime: Literal["standard", "small_business"] = "standard"
    # what the shop sells to businesses in other EU countries: goods are an intra-community supply
    # (tax free, §4 Nr. 1b / §6a UStG, category K), services a reverse charge (§13b UStG, category AE)
    supplies: Literal["goods", "services"] = "goods"
    iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
    bic: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    # shown as the SMS sender where the country allows alphanumeric sender ids (3-11 letters/digits, one letter)
    sms_sender_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*$", min_length=3, max_length=11
    )
    platforms: dict[PlatformName, PlatformSettings] = Field(default_factory=dict)
    dunning: Dunning | None = None
    marketing_limit: MarketingLimit | None = None  # e.g. {max: 3, per: 7d}
    alerts: Alerts = Field(default_factory=Alerts)
    numbering: Numbering = Field(default_factory=Numbering)

    @field_validator("platforms")
    @classmethod
    def _secrets_where_platforms_sign(cls, value: dict[str, PlatformSettings]) -> dict[str, PlatformSettings]:
        for name, config in value.items():
            if name in SIGNED_PLATFORMS and config.secret is None:
                raise ValueError(f"{name}: secret is required ({name} signs its webhooks with it)")
            if name not in SIGNED_PLATFORMS and (config.secret or config.previous_secret):
                raise ValueError(f"{name}: remove secret; {name} is authenticated with the shop's ingest API key")
        return value

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
            "legal": self.legal.model_dump() if self.legal else None,
            "vat_regime": self.vat_regime,
            "supplies": self.supplies,
            "iban": self.iban,
            "bic": self.bic,
            "sms_sender_id": self.sms_sender_id,
            "numbering": self.numbering.model_dump(),
        }
