"""The pdf action: render an order document or dunning letter, store it private and encrypted in S3, and note it
on its order for the customer portal. The key is fixed per action, so doing the action again overwrites it."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import UpdateError

from ..clients import client
from ..delivery.outcome import Outcome
from ..documents.pdf import document_filename, render_document
from ..errors import ActionFailed
from ..model.messages import ActionMessage
from ..model.numbering import Numbering
from ..settings import settings
from ..store.numbers import allocate_number, number_of
from ..store.tables import OrderItem

URL_SECONDS = 7 * 24 * 3600


def create_document(msg: ActionMessage, font_dir: Path) -> Outcome:
    """Perform a pdf action: render, store private and encrypted in S3, output key and pre-signed URL."""
    kind = msg.action["document"]
    ctx = msg.context
    if kind == "invoice" and ctx.get("order"):
        ctx = ctx | {"document": invoice_number(msg.shop_id, ctx)}
    elif kind == "credit_note" and ctx.get("order"):
        refund = (ctx.get("event") or {}).get("refund") or ctx.get("refund")
        if not refund:
            raise ActionFailed("a credit_note is made for a refund: use it on order.refunded (event.refund)")
        ctx = ctx | {"refund": refund, "document": credit_note_number(msg.shop_id, ctx, refund)}
    body, lang = render_document(kind, ctx, font_dir)
    bucket = settings().documents_bucket
    if not bucket:
        raise RuntimeError("DOCUMENTS_BUCKET is not configured")
    # the key is fixed per action, so doing the action again overwrites instead of duplicating
    digest = hashlib.sha256(msg.action_id.encode()).hexdigest()[:16]
    filename = document_filename(kind, ctx, lang)
    key = f"shops/{msg.shop_id}/documents/{kind}/{digest}/{filename}"
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/pdf", ServerSideEncryption="AES256")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=URL_SECONDS)
    # a dunning letter belongs to its invoice's order, where it has one
    order_id = ctx["invoice"].get("order_id") if kind == "dunning_letter" else (ctx.get("order") or {}).get("id")
    record_on_order(msg.shop_id, order_id, key)
    output = {
        "bucket": bucket,
        "key": key,
        "url": url,
        "filename": filename,
        "content_type": "application/pdf",
        "document": kind,
    }
    return Outcome(provider_id=key, output=output, detail={"language": lang, "bytes": len(body)})


def invoice_number(shop_id: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """The order's invoice number and issue date: the next of the shop's sequence the first time,
    the same ones on every later render (a redelivery, a retry, a second invoice action)."""
    shop = ctx.get("shop") or {}
    pattern = (shop.get("numbering") or {}).get("invoice") or Numbering().invoice
    given = allocate_number(shop_id, "invoice", str(ctx["order"]["id"]), pattern, _today(shop))
    return {"number": given.number, "issued_on": given.issued_on.isoformat()}


def credit_note_number(shop_id: str, ctx: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
    """The refund's credit note number (the shop's own sequence for credit notes, once per refund)
    and the invoice it corrects (EN 16931 BT-25/BT-26), where Regelwerk numbered one for the order."""
    shop = ctx.get("shop") or {}
    pattern = (shop.get("numbering") or {}).get("credit_note") or Numbering().credit_note
    order_id = str(ctx["order"]["id"])
    given = allocate_number(shop_id, "credit_note", f"{order_id}#{refund['id']}", pattern, _today(shop))
    invoice = number_of(shop_id, "invoice", order_id)
    corrects = {"number": invoice.number, "issued_on": invoice.issued_on.isoformat()} if invoice else None
    return {"number": given.number, "issued_on": given.issued_on.isoformat(), "corrects": corrects}


def _today(shop: dict[str, Any]) -> date:
    """The issue date: today in the shop's time zone."""
    return datetime.now(ZoneInfo(shop.get("time_zone") or "Europe/Berlin")).date()


def record_on_order(shop_id: str, order_id: str | None, key: str) -> None:
    """Note the document's S3 key on its order, so the customer portal can offer it for download.

    ADD to a string set is idempotent (a redone PDF action adds nothing). The update also bumps the
    order's version, so an import writing the same order concurrently retries instead of dropping it.
    """
    if not order_id:
        return
    try:
        # the table connection, not Model.update: that would make the write conditional on a version it never read
        OrderItem._get_connection().update_item(
            shop_id,
            order_id,
            actions=[OrderItem.document_keys.add({key}), OrderItem.version.add(1)],
            condition=OrderItem.order_id.exists(),
        )
    except UpdateError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise
        # the order is not stored (e.g. a dry run's order): nothing to note it on
