"""Shared pydantic field types: ids, currencies, countries, amounts, slugs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict

from .money import to_decimal
from .territories import is_country

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _id(value: object) -> object:
    # Shop ids can exceed 53 bits: accept JSON integers but keep them as exact strings.
    if isinstance(value, bool):
        raise ValueError("must be a string id")
    if isinstance(value, int):
        return str(value)
    return value


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    if len(value) > 128:
        raise ValueError("must be at most 128 characters")
    return value


def _amount(value: object) -> Decimal:
    return to_decimal(value)


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies  # Babel's ISO 4217 list; loaded on the first currency read

    return frozenset(list_currencies())


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("must be an ISO 4217 currency code such as EUR")
    if value not in _known_currencies():
        raise ValueError(f"unknown ISO 4217 currency code {value!r}")
    return value


MAX_QUANTITY = Decimal(1_000_000)


def _quantity(value: object) -> Decimal:
    """A quantity: a positive Decimal (1.5 kg), at most 6 decimals; never a float."""
    number = to_decimal(value)
    if number <= 0:
        raise ValueError("quantity must be greater than 0")
    if number > MAX_QUANTITY:
        raise ValueError(f"quantity must be at most {MAX_QUANTITY}")
    if number.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValueError("quantity has more than 6 decimal places")
    return number


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _time(value: datetime) -> datetime:
    """A moment between 1970 and 2100: anything else is a platform's placeholder or a typo."""
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 1970-01-01 and 2099-12-31")
    return value


def _country(value: str) -> str:
    value = value.upper()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("must be an ISO 3166-1 alpha-2 country code such as DE")

    if not is_country(value):
        raise ValueError(f"unknown ISO 3166 country code {value!r}")
    return value


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError("must be lower-case letters, digits, '-', '_' or '.', starting with a letter or digit")
    return value


Id = Annotated[str, BeforeValidator(_id), AfterValidator(_non_empty)]
Amount = Annotated[Decimal, BeforeValidator(_amount)]
Currency = Annotated[str, AfterValidator(_currency)]
Country = Annotated[str, AfterValidator(_country)]
Slug = Annotated[str, AfterValidator(_slug)]
Quantity = Annotated[Decimal, BeforeValidator(_quantity)]
Time = Annotated[AwareDatetime, AfterValidator(_time)]
