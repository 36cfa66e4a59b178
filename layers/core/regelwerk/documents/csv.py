"""CSV a spreadsheet opens cleanly: UTF-8, a header row, comma-separated, CRLF, and no cell a spreadsheet would
run as a formula (CSV injection). The customer area's export and import and the export action write through here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from ..model.customer import Customer

CUSTOMER_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "language",
    "country",
    "tags",
    "groups",
    "order_count",
    "total_spent",
    "first_order_at",
    "last_order_at",
)
CSV_COLUMNS = CUSTOMER_COLUMNS  # the customer CSV: export and import share its columns
LIST_SEPARATOR = "|"  # tags and groups in one cell


def csv_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): such text gets a leading apostrophe.

    A leading + or - followed only by digits, spaces and ``()/.-`` (a phone number, a negative
    amount) stays as it is: it can hold no function call.
    """
    phone_like = re.fullmatch(r"[+-][\d\s()/.-]*", value)
    if value[:1] in ("=", "@", "\t", "\r") or (value[:1] in ("+", "-") and not phone_like):
        return "'" + value
    return value


def uncell(value: str) -> str:
    """A cell as it was before ``csv_cell`` defused it."""
    if value[:1] == "'" and value[1:2] in ("=", "@", "+", "-", "\t", "\r"):
        return value[1:]
    return value


def write_csv(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> str:
    """CSV text: a header of ``columns``, then each row's cells in that order, defused; comma-separated, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row[col]) for col in columns])
    return out.getvalue()


def customer_row(customer: Customer, zone: tzinfo | None = None) -> dict[str, str]:
    """A customer as CSV cells (``CUSTOMER_COLUMNS``); times as ISO 8601, in ``zone`` if given."""

    def when(value: datetime | None) -> str:
        return "" if value is None else (value.astimezone(zone) if zone else value).isoformat()

    c = customer
    return {
        "id": c.id,
        "email": c.email or "",
        "first_name": c.first_name or "",
        "last_name": c.last_name or "",
        "phone": c.phone or "",
        "language": c.language or "",
        "country": c.country or "",
        "tags": LIST_SEPARATOR.join(c.tags),
        "groups": LIST_SEPARATOR.join(c.groups),
        "order_count": str(c.order_count),
        "total_spent": LIST_SEPARATOR.join(f"{cur} {amount}" for cur, amount in c.total_spent.items()),
        "first_order_at": when(c.first_order_at),
        "last_order_at": when(c.last_order_at),
    }
