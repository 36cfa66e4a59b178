"""The export action: a CSV of a shop's orders, invoices or customers of a time window, private in S3.

Rows come from a Query of the shop's own partition, page by page (never a Scan), so no export can
hold another shop's data. The CSV is what a spreadsheet opens cleanly:

- UTF-8 with a byte-order mark (so Excel reads umlauts right), a header row, comma-separated, CRLF.
  A comma, not a semicolon: amounts use a decimal point, and the customer export re-imports as it is.
- Amounts are exact decimal strings with the currency's minor units (``149.90``) next to a currency
  column; ids are text; times are ISO 8601 with the offset, in the shop's time zone.
- Cells a spreadsheet would run as a formula get a leading apostrophe (CSV injection), as in the
  customer area's CSV, whose columns and writer the customer export shares.

Windows are calendar periods in the shop's time zone, each half-open ``[start, end)``:
``today`` and ``yesterday``; ``last_7_days`` and ``last_30_days`` are the full days before today
(today's orders are still coming in); ``this_month`` / ``this_year`` up to the period's end;
``last_month`` / ``last_year``; ``all`` has no bounds. Orders fall in a window by ``created_at``,
invoices by ``issued_at``, customers by their first order (the customers won in the window).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from pynamodb.attributes import UnicodeAttribute

from ..clients import client
from ..delivery.outcome import Outcome
from ..documents.csv import CUSTOMER_COLUMNS, customer_row, write_csv
from ..engine.windows import window_bounds, within
from ..model.customer import erased_profile
from ..model.messages import ActionMessage
from ..model.money import Money
from ..settings import settings
from ..store.customers import customer_from_item
from ..store.invoices import invoice_of
from ..store.orders import order_of
from ..store.tables import CustomerItem, InvoiceItem, OrderItem

Of = Literal["orders", "invoices", "customers"]
EXPORTS: tuple[Of, ...] = get_args(Of)

ORDER_COLUMNS = (
    "id",
    "number",
    "created_at",
    "status",
    "customer_id",
    "email",  # the only personal data, as the customer CSV has it; gone once the customer is erased
    "currency",
    "total",
    "paid_at",
    "shipped_at",
    "item_count",
)
INVOICE_COLUMNS = (
    "id",
    "number",
    "order_id",
    "customer_id",
    "issued_at",
    "due_at",
    "currency",
    "amount",
    "amount_paid",
    "status",
    "paid_at",
    "dunning_level",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ORDER_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
}
PAGE_SIZE = 200  # items per Query page: memory stays flat however large the shop's partition is
URL_SECONDS = 7 * 24 * 3600
CONTENT_TYPE = "text/csv; charset=utf-8"
# time attributes are stored with the offset they came with, so their text orders only roughly:
# DynamoDB filters a day wider on each side, the exact window is applied to the parsed time
_SLACK = timedelta(days=1)


def _roughly_within(attribute: UnicodeAttribute, start: datetime | None, end: datetime | None) -> Any:
    """A DynamoDB filter that keeps at least every item whose time attribute lies in the window."""
    if start is None and end is None:
        return None
    lo = (start.astimezone(UTC) - _SLACK).isoformat() if start else "0000"
    hi = (end.astimezone(UTC) + _SLACK).isoformat() if end else "9999"
    return attribute.between(lo, hi)


# ------------------------------------------------------------------ rows


def _time(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).isoformat()


def _amount(value: Any, currency: str) -> str:
    return "" if value is None else str(Money(value, currency).quantized().amount)


def _order_rows(
    shop_id: str, start: datetime | None, end: datetime | None, zone: ZoneInfo
) -> Iterator[tuple[datetime | None, dict[str, str]]]:
    rough = _roughly_within(OrderItem.created_at, start, end)
    if rough is not None:
        rough = rough | OrderItem.created_at.does_not_exist()  # orders stored before the attribute existed
    for item in OrderItem.query(shop_id, filter_condition=rough, page_size=PAGE_SIZE):
        order = order_of(item)
        if not within(order.created_at, start, end):
            continue
        yield (
            order.created_at,
            {
                "id": order.id,
                "number": order.number,
                "created_at": _time(order.created_at, zone),
                "status": order.status,
                "customer_id": item.customer_id,
                "email": order.customer.email or "",
                "currency": order.currency,
                "total": _amount(order.total, order.currency),
                "paid_at": _time(order.paid_at, zone),
                "shipped_at": _time(order.shipped_at, zone),
                "item_count": str(sum(i.quantity for i in order.line_items)),
            },
        )


def _invoice_rows(
    shop_id: str, start: datetime | None, end: datetime | None, zone: ZoneInfo
) -> Iterator[tuple[datetime | None, dict[str, str]]]:
    # the issue date lives only in the JSON document: the window is applied here, after the Query
    for item in InvoiceItem.query(shop_id, page_size=PAGE_SIZE):
        invoice = invoice_of(item)
        if not within(invoice.issued_at, start, end):
            continue
        yield (
            invoice.issued_at,
            {
                "id": invoice.id,
                "number": invoice.number,
                "order_id": invoice.order_id or "",
                "customer_id": invoice.customer_id or "",
                "issued_at": _time(invoice.issued_at, zone),
                "due_at": _time(invoice.due_at, zone),
                "currency": invoice.currency,
                "amount": _amount(invoice.amount, invoice.currency),
                "amount_paid": _amount(invoice.amount_paid, invoice.currency),
                "status": invoice.status,
                "paid_at": _time(invoice.paid_at, zone),
                "dunning_level": str(invoice.dunning_level),
            },
        )


def _customer_rows(
    shop_id: str, start: datetime | None, end: datetime | None, zone: ZoneInfo
) -> Iterator[tuple[datetime | None, dict[str, str]]]:
    rough = _roughly_within(CustomerItem.first_order_at, start, end)
    for item in CustomerItem.query(shop_id, filter_condition=rough, page_size=PAGE_SIZE):
        customer = customer_from_item(item)
        if item.erased_at:
            # erased stays erased in an export, even if a later order filled the profile in again
            customer = erased_profile(customer)
        if not within(customer.first_order_at, start, end):
            continue
        yield customer.first_order_at, customer_row(customer, zone)


_ROWS = {"orders": _order_rows, "invoices": _invoice_rows, "customers": _customer_rows}


def _rows(
    shop_id: str, of: str, start: datetime | None, end: datetime | None, time_zone: str
) -> Iterator[tuple[datetime | None, dict[str, str]]]:
    if of not in _ROWS:
        raise ValueError(f"unknown export {of!r}; one of {', '.join(EXPORTS)}")
    return _ROWS[of](shop_id, start, end, ZoneInfo(time_zone))


def export_rows(
    shop_id: str, of: Of, start: datetime | None, end: datetime | None, time_zone: str = "UTC"
) -> Iterator[dict[str, str]]:
    """The shop's orders, invoices or customers in ``[start, end)`` as CSV cells (``COLUMNS[of]``), in key order.

    Reads the shop's partition page by page; times come out in ``time_zone``.
    """
    for _when, row in _rows(shop_id, of, start, end, time_zone):
        yield row


def export_csv(shop_id: str, of: Of, window: str, now: datetime, time_zone: str) -> tuple[bytes, int]:
    """The CSV file of one export and its number of data rows, oldest first (customers without orders last)."""
    start, end = window_bounds(window, now, time_zone)
    rows = list(_rows(shop_id, of, start, end, time_zone))
    floor = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r[0].astimezone(UTC) if r[0] else floor, r[1]["id"]))
    text = write_csv(COLUMNS[of], (row for _when, row in rows))
    return text.encode("utf-8-sig"), len(rows)


# ------------------------------------------------------------------ S3


def export_filename(of: str, window: str, now: datetime, time_zone: str) -> str:
    """``orders_2026-11-01_2026-11-30.csv``: what the export holds, by its first and last day."""
    start, end = window_bounds(window, now, time_zone)
    if start is None or end is None:
        return f"{of}_all_{now.astimezone(ZoneInfo(time_zone)).date().isoformat()}.csv"
    return f"{of}_{start.date().isoformat()}_{(end - timedelta(days=1)).date().isoformat()}.csv"


def store_export(
    shop_id: str, action_id: str, of: str, window: str, body: bytes, rows: int, filename: str | None = None
) -> dict[str, Any]:
    """Put the CSV private and encrypted in S3; the action's output: where it is and a URL valid 7 days.

    The key depends only on the action id, so doing the action again overwrites the same object.
    """
    bucket = settings().documents_bucket
    if not bucket:
        raise RuntimeError("DOCUMENTS_BUCKET is not configured")
    filename = filename or f"{of}_{window}.csv"
    digest = hashlib.sha256(action_id.encode()).hexdigest()[:16]
    key = f"shops/{shop_id}/exports/{of}/{digest}.csv"
    s3 = client("s3")
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=CONTENT_TYPE,
        ContentDisposition=f'attachment; filename="{filename}"',
        ServerSideEncryption="AES256",
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=URL_SECONDS)
    return {
        "bucket": bucket,
        "key": key,
        "url": url,
        "filename": filename,
        "content_type": CONTENT_TYPE,
        "rows": rows,
        "of": of,
        "window": window,
    }


def run_export(shop_id: str, action_id: str, of: Of, window: str, now: datetime, time_zone: str) -> dict[str, Any]:
    """Perform an export action: build the CSV and store it; returns the action's output.

    Pass the event's time as ``now`` (not the clock), so a redone action exports the same window.
    """
    body, rows = export_csv(shop_id, of, window, now, time_zone)
    return store_export(shop_id, action_id, of, window, body, rows, export_filename(of, window, now, time_zone))


def export(msg: ActionMessage) -> Outcome:
    """Perform an export action: the window's CSV in S3 (the action's output: where it is and a URL)."""
    action, ctx = msg.action, msg.context
    # the window counts from the schedule slot the run stands for (the 1st of the month), else from when
    # the action was planned: a redone export covers the same days
    slot = (ctx.get("event") or {}).get("schedule_slot")
    now = datetime.fromisoformat((slot or msg.planned_at or datetime.now(UTC).isoformat()).replace("Z", "+00:00"))
    zone = (ctx.get("shop") or {}).get("time_zone") or "UTC"
    output = run_export(msg.shop_id, msg.action_id, action["of"], action.get("window", "last_month"), now, zone)
    return Outcome(provider_id=output["key"], output=output, detail={"rows": output["rows"]})
