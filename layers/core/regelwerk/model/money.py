"""Money is an amount in a currency: Decimal, never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_AMOUNT = Decimal("1e15")
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "JOD": 3, "TND": 3}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def to_decimal(value: object) -> Decimal:
    """Parse an amount given as str, int or Decimal. Floats are refused: they cannot hold cents exactly."""
    if isinstance(value, bool | float):
        raise ValueError("amounts must be strings or decimals, not floating point numbers")
    try:
        result = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc
    if not result.is_finite():
        raise ValueError("amount must be finite")
    if abs(result) >= MAX_AMOUNT or result.as_tuple().exponent < -18:  # type: ignore[operator]
        raise ValueError("amount out of range (at most 15 digits before and 18 after the decimal point)")
    return result


UNIT_PRICE_PLACES = Decimal("1e-6")


def unit_price(amount: Decimal, quantity: Decimal = Decimal(1)) -> Decimal:
    """A unit price out of a line amount: to 6 decimals, trailing zeros dropped (6.45 / 2 = 3.225,
    199.00 stays 199.00's value as 199, never ``1E+2``-style exponents)."""
    value = (amount / quantity).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        return cls(to_decimal(amount), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-minor_units(currency)), currency)

    def quantized(self) -> Money:
        exp = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(self.amount.quantize(exp, rounding=ROUND_HALF_UP), self.currency)

    def as_dict(self) -> dict[str, str]:
        """The one JSON shape of money everywhere: string amount plus ISO 4217 code."""
        return {"amount": str(self.quantized().amount), "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict) -> Money:
        return cls(to_decimal(data["amount"]), data["currency"])

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.quantized().amount} {self.currency}"
