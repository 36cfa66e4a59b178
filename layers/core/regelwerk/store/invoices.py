"""Invoices as stored: the canonical invoice (``document``), and the sparse open-by-due index the dunning scan reads."""

from __future__ import annotations

from datetime import UTC

from ..model.invoice import Invoice
from .tables import InvoiceItem, get_or_none


def invoice_of(item: InvoiceItem) -> Invoice:
    """The canonical invoice an item holds."""
    return Invoice.model_validate_json(item.document)


def load_invoice(shop_id: str, invoice_id: str) -> Invoice | None:
    """The stored invoice, read consistently, or None."""
    item = get_or_none(InvoiceItem, shop_id, invoice_id)
    return invoice_of(item) if item is not None else None


def mark_open(item: InvoiceItem, invoice: Invoice) -> None:
    """Write the invoice into its item, in the sparse open-by-due index exactly while it is open."""
    item.status = invoice.status
    item.document = invoice.model_dump_json()
    is_open = invoice.status == "open"
    item.open_shop = item.shop_id if is_open else None  # None removes the attribute: out of the index
    item.due_at = invoice.due_at.astimezone(UTC).isoformat() if is_open else None
