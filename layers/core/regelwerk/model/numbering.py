"""Invoice and credit-note numbers: a shop's pattern, its sequence, and the dates an invoice states.

German VAT law (UStG §14(4) Nr. 4) asks for a number that is unique and given once; a
gap-free, ascending sequence per shop is what tax auditors expect. The pattern says how a
number looks: ``RE-{yyyy}-{seq:05}`` is ``RE-2026-00042``. ``{yyyy}``, ``{yy}`` and ``{mm}``
are the issue date's year and month; a pattern with a year starts its sequence again each
year (a month: each month), and the sequence is always the shop's and the document kind's
own (``store/numbers.py`` allocates it atomically).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from .values import STRICT

_PLACEHOLDER = re.compile(r"\{(yyyy|yy|mm|seq(?::0([1-9]))?)\}")
_LITERAL = re.compile(r"[A-Za-z0-9/._#-]*")


def _pattern(value: str) -> str:
    """A pattern of letters, digits, ``/._#-`` and the placeholders, with exactly one ``{seq}``."""
    rest = _PLACEHOLDER.sub("", value)
    if not _LITERAL.fullmatch(rest):
        raise ValueError(
            "a number pattern has letters, digits, '/', '.', '_', '#', '-' and the placeholders "
            "{yyyy}, {yy}, {mm}, {seq} or {seq:05}"
        )
    seqs = [m for m in _PLACEHOLDER.finditer(value) if m.group(1).startswith("seq")]
    if len(seqs) != 1:
        raise ValueError("a number pattern needs exactly one {seq} (the running number), e.g. RE-{yyyy}-{seq:05}")
    return value


NumberPattern = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_pattern)]


class Numbering(BaseModel):
    """How the shop numbers its invoices and credit notes, and what its invoices state."""

    model_config = STRICT

    invoice: NumberPattern = "RE-{yyyy}-{seq:05}"
    credit_note: NumberPattern = "GS-{yyyy}-{seq:05}"
    # the date of delivery (Leistungsdatum, UStG §14(4) Nr. 6): the shipping day, else the order day
    delivery_date: Literal["shipped", "ordered"] = "shipped"
    payment_terms_days: int = Field(default=14, ge=0, le=365)


def sequence_scope(pattern: str, issued_on: date) -> str:
    """The sequence a number belongs to: per year when the pattern shows the year, per month with the month."""
    if "{mm}" in pattern:
        return f"{issued_on:%Y-%m}"
    if "{yyyy}" in pattern or "{yy}" in pattern:
        return f"{issued_on:%Y}"
    return "all"


def format_number(pattern: str, seq: int, issued_on: date) -> str:
    """``RE-{yyyy}-{seq:05}`` with 42 on 2026-11-28 is ``RE-2026-00042``."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "yyyy":
            return f"{issued_on:%Y}"
        if name == "yy":
            return f"{issued_on:%y}"
        if name == "mm":
            return f"{issued_on:%m}"
        width = int(match.group(2) or 1)
        return str(seq).zfill(width)

    return _PLACEHOLDER.sub(one, pattern)


DocumentKind = Literal["invoice", "credit_note"]
