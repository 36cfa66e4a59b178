"""Shared pydantic field types: ids, currencies, countries, amounts, slugs."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict

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


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("must be an ISO 4217 currency code such as EUR")
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
