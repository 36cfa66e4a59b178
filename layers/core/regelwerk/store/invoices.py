"""Invoices as stored: the canonical invoice (``document``), the sparse open-by-due index the dunning scan
reads, and the by-issued and by-number indexes the invoice list reads."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any, get_args

from ..errors import InvalidInput, NotFound, Problem
from ..model.invoice import Invoice, InvoiceStatus
from ..model.money import Money
from . import paging
from .lookup import (
    MAX_ID,
    AmbiguousNumber,
    backfill,
    key_range,
    number_filter,
    number_key,
    number_ref,
    page_limit,
    utc_key,
    window,
)
from .tables import InvoiceItem, get_or_none

if TYPE_CHECKING:
    from pynamodb.pagination import ResultIterator

STATUSES: tuple[str, ...] = get_args(InvoiceStatus)
MAX_PER_NUMBER = 100


def invoice_of(item: InvoiceItem) -> Invoice:
    """The canonical invoice an item holds."""
    return Invoice.model_validate_json(item.document)


def load_invoice(shop_id: str, invoice_id: str) -> Invoice | None:
    """The stored invoice, read consistently, or None."""
    item = get_or_none(InvoiceItem, shop_id, invoice_id)
    return invoice_of(item) if item is not None else None


def mark_open(item: InvoiceItem, invoice: Invoice) -> None:
    """Write the invoice into its item, in the sparse open-by-due index exactly while it is open, and in
    the list's indexes (issue date in UTC, the shop's number)."""
    item.status = invoice.status
    item.document = invoice.model_dump_json()
    is_open = invoice.status == "open"
    item.open_shop = item.shop_id if is_open else None  # None removes the attribute: out of the index
    item.due_at = invoice.due_at.astimezone(UTC).isoformat() if is_open else None
    item.issued_at = utc_key(invoice.issued_at)
    item.number_key = number_key(item.shop_id, invoice.number)


def invoices_numbered(shop_id: str, number: str) -> list[str]:
    """The ids of the shop's invoices with this number (newest first)."""
    found = InvoiceItem.by_number.query(number_key(shop_id, number), scan_index_forward=False, limit=MAX_PER_NUMBER)
    return [i.invoice_id for i in found]


def resolve_invoice_id(shop_id: str, ref: str) -> str:
    """An invoice id, or the id of ``number:R-2026-001``: 404 when none has it, 409 listing the matches."""
    wanted = number_ref(ref)
    if wanted is None:
        if len(ref) > MAX_ID:
            raise NotFound(f"no invoice {ref[:MAX_ID]!r}...")
        return ref
    ids = invoices_numbered(shop_id, wanted.number if wanted.channel is None else f"{wanted.number}@{wanted.channel}")
    if not ids:
        raise NotFound(f"no invoice with number {wanted.number!r}")
    if len(ids) > 1:
        raise AmbiguousNumber("invoice", wanted.number, [{"id": i} for i in ids])
    return ids[0]


def get_invoice_item(shop_id: str, ref: str) -> InvoiceItem:
    """The stored invoice item of an id or ``number:...``; 404 when there is none."""
    item = get_or_none(InvoiceItem, shop_id, resolve_invoice_id(shop_id, ref))
    if item is None:
        raise NotFound(f"no invoice {ref!r}")
    return item


def invoice_summary(item: InvoiceItem) -> dict[str, Any]:
    """One row of an invoice list, money as {amount, currency}."""
    invoice = invoice_of(item)
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "order_id": invoice.order_id,
        "customer_id": invoice.customer_id,
        "issued_at": invoice.issued_at.isoformat(),
        "due_at": invoice.due_at.isoformat(),
        "amount": Money(invoice.amount, invoice.currency).quantized().as_dict(),
        "dunning_level": invoice.dunning_level,
    }


def list_invoices(
    shop_id: str,
    *,
    number: str | None = None,
    customer: str | None = None,
    status: str | None = None,
    order: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """The shop's invoices, newest first, filtered; ``next`` is a signed token for the following page.

    ``number`` reads the by-number index, everything else the by-issued index (one shop's invoices by
    date), with the remaining filters applied to what it reads."""
    size = page_limit(limit)
    if status is not None and status not in STATUSES:
        raise InvalidInput("invalid filter", [Problem("$.status", f"one of {', '.join(STATUSES)}")])
    number = number_filter(number)
    low, high = window(since, until)

    def keep(item: InvoiceItem) -> bool:
        invoice = invoice_of(item)
        return (
            (high is None or (item.issued_at or "") < high)
            and (status is None or invoice.status == status)
            and (order is None or invoice.order_id == order)
            and (customer is None or invoice.customer_id == customer)
        )

    if number:  # a handful of invoices: read them by id, no paging
        ids = invoices_numbered(shop_id, number)
        items = sorted(
            InvoiceItem.batch_get([(shop_id, i) for i in ids]), key=lambda i: i.issued_at or "", reverse=True
        )
        rows = [i for i in items if keep(i) and (low is None or (i.issued_at or "") >= low)]
        return {"invoices": [invoice_summary(i) for i in rows[:size]], "next": None}

    key_condition = key_range(InvoiceItem.issued_at, low, high)

    def query(start: dict[str, Any] | None, n: int) -> ResultIterator[InvoiceItem]:
        return InvoiceItem.by_issued.query(
            shop_id, key_condition, scan_index_forward=False, limit=n, last_evaluated_key=start
        )

    scope = paging.scope_of(f"invoices:by-issued:{low}:{high}", customer=customer, status=status, order=order)
    rows, last = paging.read_page(InvoiceItem, query, keep, limit=size, start=paging.decode(shop_id, token, scope))
    return {"invoices": [invoice_summary(i) for i in rows], "next": paging.encode(shop_id, last, scope)}


def reindex_invoices(shop_id: str) -> int:
    """Write the list's index attributes on the shop's invoices stored before the indexes existed."""
    changed = 0
    for item in InvoiceItem.query(shop_id, page_size=200):
        invoice = invoice_of(item)
        want = [
            (InvoiceItem.issued_at, utc_key(invoice.issued_at)),
            (InvoiceItem.number_key, number_key(shop_id, invoice.number)),
        ]
        changed += backfill(InvoiceItem, shop_id, item.invoice_id, item, want)
    return changed
