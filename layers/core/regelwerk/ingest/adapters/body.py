"""Reading a platform's JSON body: what is missing or malformed is collected with its JSON path.

Adapters read through a ``Body`` so that a 422 names every problem at once, in the platform's
own terms (``$.line_items[1].price: not a decimal amount``), and then ``build_order`` validates
the canonical Order, naming the platform field again when the canonical model refuses a value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ...errors import InvalidInput, MalformedBody, PayloadTooLarge, Problem, pydantic_problems
from ...model.money import minor_units, to_decimal
from ...model.order import Order
from ...settings import settings


def parse_json(raw: bytes) -> Any:
    """A JSON body: 413 when over the limit, 400 when not UTF-8 JSON; amounts read as Decimal, never float."""
    if len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {settings().max_body_bytes}")
    try:
        return json.loads(raw, parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise MalformedBody("body is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise MalformedBody("JSON nested too deeply") from exc


_EMPTY = (None, "")
MAX_AMOUNT = Decimal(10) ** 15  # no order is worth this much; larger numbers are input errors


class Body:
    """A JSON object of a platform body, read by key, with the problems found so far."""

    def __init__(self, data: dict[str, Any], path: str = "$", problems: list[Problem] | None = None):
        self.data = data
        self.path = path
        self.problems: list[Problem] = [] if problems is None else problems

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.at(key), reason))

    def has(self, key: str) -> bool:
        return self.data.get(key) not in _EMPTY

    def value(self, key: str, *, required: bool = False) -> Any:
        value = self.data.get(key)
        if value in _EMPTY:
            if required:
                self.problem(key, "required field is missing")
            return None
        return value

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A string (numbers become their text: ids larger than 2^53 stay exact); blank is None."""
        value = self.value(key, required=required)
        if value is None:
            return None
        if isinstance(value, bool | dict | list):
            self.problem(key, "must be a string")
            return None
        text = str(value).strip()
        if not text and required:
            self.problem(key, "required field is missing")
        return text or None

    def amount(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.value(key, required=required)
        if value is None:
            return None
        try:
            amount = to_decimal(value)
        except ValueError as exc:
            self.problem(key, str(exc))
            return None
        if abs(amount) >= MAX_AMOUNT:
            self.problem(key, f"amount out of range: {value!r}")
            return None
        return amount

    def time(self, key: str, *, required: bool = False, naive: str | None = None) -> datetime | None:
        """An ISO 8601 time. ``naive="utc"`` reads a time without offset as UTC (platforms that say so)."""
        value = self.value(key, required=required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.problem(key, f"not an ISO 8601 time: {value!r}")
            return None
        if parsed.tzinfo is None:
            if naive != "utc":
                self.problem(key, "the time has no UTC offset")
                return None
            parsed = parsed.replace(tzinfo=UTC)
        return parsed

    def child(self, key: str, *, required: bool = False) -> Body | None:
        value = self.value(key, required=required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(key, "must be an object")
            return None
        return Body(value, self.at(key), self.problems)

    def children(self, key: str, *, required: bool = False) -> list[Body]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "required field is missing")
            return []
        if not isinstance(value, list):
            self.problem(key, "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append(Body(item, f"{self.at(key)}[{i}]", self.problems))
            else:
                self.problems.append(Problem(f"{self.at(key)}[{i}]", "must be an object"))
        return out


def parse_object(raw: bytes, platform: str) -> dict[str, Any]:
    """The body as a JSON object, numbers with a fraction as Decimal (never float)."""
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise InvalidInput(f"the body must be a JSON object (a {platform} order)", [Problem("$", "not an object")])
    return payload


def address(body: Body | None, fields: dict[str, str | None], country_key: str) -> dict[str, Any] | None:
    """A canonical address from platform fields; None when the platform sent none (all blank).

    An address with content but without a country is a problem: rules test the country.
    """
    if body is None:
        return None
    values = {k: v for k, v in fields.items() if v}
    if not values:
        return None
    if "country" not in values:
        body.problem(country_key, "required field is missing (the ISO 3166 country code of this address)")
        return None
    return values


def rounded(value: Decimal, currency: str | None) -> Decimal:
    """A computed total rounded to the currency's minor unit (cents for EUR, none for JPY)."""
    return value.quantize(Decimal(1).scaleb(-minor_units(currency or "")))


def name_of(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


def language(value: str | None) -> str | None:
    """``de``, ``de-DE``, ``de_DE`` or ``DE`` as the canonical ``de`` / ``de-DE``; None if it is none of those."""
    if not value:
        return None
    text = value.strip().replace("_", "-")
    lang, _, region = text.partition("-")
    if len(lang) != 2 or not lang.isalpha():
        return None
    if len(region) == 2 and region.isalpha():
        return f"{lang.lower()}-{region.upper()}"
    return lang.lower()


def build_order(platform: str, data: dict[str, Any], body: Body, sources: dict[str, str]) -> Order:
    """Validate the canonical order; 422 naming platform paths when the body or the order is wrong.

    ``sources`` maps canonical paths (``$.customer.email``) to where the value came from
    (``$.billing.email``): the longest matching prefix is replaced in each problem's path.
    """
    if body.problems:
        raise InvalidInput(f"the body is not a {platform} order", _unique(body.problems))
    try:
        return Order.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(_translate(p.path, sources), p.reason) for p in pydantic_problems(exc)]
        raise InvalidInput(f"the {platform} order cannot be read", _unique(problems)) from exc


def _translate(path: str, sources: dict[str, str]) -> str:
    best = max((k for k in sources if path == k or path.startswith((k + ".", k + "["))), key=len, default=None)
    return sources[best] + path[len(best) :] if best else f"{path} (canonical order)"


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.reason) not in seen:
            seen.add((p.path, p.reason))
            out.append(p)
    return out
