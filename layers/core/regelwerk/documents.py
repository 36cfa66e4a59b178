"""The pdf action: order documents (invoice, delivery note, payment reminder, credit note) as PDF in S3.

Imported only by the PDF handler: fpdf2 stays out of every other function's cold start.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from fpdf import FPDF

from .delivery import Outcome
from .errors import ActionFailed
from .settings import settings
from .templates import _current, date_filter, money_filter

LABELS = {
    "de": {
        "invoice": "Rechnung",
        "delivery_note": "Lieferschein",
        "payment_reminder": "Zahlungserinnerung",
        "credit_note": "Gutschrift",
        "number": "Nummer",
        "date": "Datum",
        "order": "Bestellung",
        "item": "Artikel",
        "qty": "Menge",
        "unit": "Einzelpreis",
        "total": "Summe",
        "net": "Netto",
        "tax": "USt.",
        "gross": "Gesamtbetrag",
        "pay": "Bitte überweisen Sie den Betrag an",
        "tax_id": "USt-IdNr.",
        "paid": "Bereits bezahlt am",
        "thanks": "Vielen Dank für Ihren Einkauf!",
        "sku": "Art.-Nr.",
    },
    "en": {
        "invoice": "Invoice",
        "delivery_note": "Delivery note",
        "payment_reminder": "Payment reminder",
        "credit_note": "Credit note",
        "number": "Number",
        "date": "Date",
        "order": "Order",
        "item": "Item",
        "qty": "Qty",
        "unit": "Unit price",
        "total": "Total",
        "net": "Net",
        "tax": "VAT",
        "gross": "Total due",
        "pay": "Please transfer the amount to",
        "tax_id": "VAT ID",
        "paid": "Paid on",
        "thanks": "Thank you for your purchase!",
        "sku": "SKU",
    },
}
_s3 = None


def _language(ctx: dict[str, Any]) -> str:
    for lang in (
        (ctx.get("customer") or {}).get("language"),
        (ctx.get("order") or {}).get("language"),
        (ctx.get("shop") or {}).get("language"),
    ):
        if lang and lang[:2] in LABELS:
            return lang[:2]
    return "en"


class _Document(FPDF):
    def __init__(self, font_dir: Path):
        super().__init__(format="A4")
        self.add_font("DejaVu", "", str(font_dir / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(font_dir / "DejaVuSans-Bold.ttf"))
        self.set_font("DejaVu", size=10)
        self.set_auto_page_break(True, margin=20)


def render_document(kind: str, ctx: dict[str, Any], font_dir: Path) -> tuple[bytes, str]:
    """Render one order document; returns (PDF bytes, language)."""
    order = ctx.get("order")
    if not order:
        raise ActionFailed(f"a {kind} needs an order in the event")
    lang = _language(ctx)
    t = LABELS[lang]
    shop = ctx.get("shop") or {}
    country = (order.get("billing_address") or order.get("shipping_address") or {}).get("country")
    _current.locale = f"{lang}_{country}" if country else lang
    _current.tz = shop.get("time_zone") or "UTC"

    pdf = _Document(font_dir)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, shop.get("name", ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=8)
    for line in shop.get("address_lines") or []:
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    address = order.get("billing_address") if kind == "invoice" else order.get("shipping_address")
    address = address or order.get("billing_address") or order.get("shipping_address") or {}
    pdf.set_font("DejaVu", size=10)
    street = " ".join(p for p in (address.get("street"), address.get("house_number")) if p)
    for line in (
        address.get("company"),
        address.get("name"),
        street,
        address.get("street2"),
        " ".join(p for p in (address.get("zip"), address.get("city")) if p),
        address.get("country"),
    ):
        if line:
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, t[kind], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    prefix = {"invoice": "RE", "delivery_note": "LS", "payment_reminder": "ZE", "credit_note": "GS"}[kind]
    pdf.cell(
        0,
        5,
        f"{t['number']}: {prefix}-{order['number']}    {t['order']}: {order['number']}    "
        f"{t['date']}: {date_filter(order.get('created_at'))}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    with_prices = kind != "delivery_note"
    widths = (25, 85, 15, 30, 30) if with_prices else (35, 130, 20)
    heads = [t["sku"], t["item"], t["qty"]] + ([t["unit"], t["total"]] if with_prices else [])
    pdf.set_font("DejaVu", "B", 9)
    for w, h in zip(widths, heads, strict=False):
        pdf.cell(w, 7, h, border="B", align="R" if h in (t["qty"], t["unit"], t["total"]) else "L")
    pdf.ln()
    pdf.set_font("DejaVu", size=9)
    taxes: dict[str, Decimal] = {}
    currency = order["currency"]
    for item in order.get("line_items") or []:
        row = [item.get("sku") or "", item["name"][:60], str(item["quantity"])]
        if with_prices:
            row += [money_filter(item["unit_price"]), money_filter(item["total"])]
            rate = Decimal(item.get("tax_rate") or "0")
            gross = Decimal(item["total"]["amount"])
            taxes[str(rate)] = taxes.get(str(rate), Decimal(0)) + gross - gross / (1 + rate / 100)
        for i, (w, v) in enumerate(zip(widths, row, strict=False)):
            pdf.cell(w, 6, v, align="R" if i >= 2 else "L")
        pdf.ln()
    if with_prices:
        pdf.ln(2)
        for rate, tax in sorted(taxes.items()):
            if tax:
                pdf.cell(sum(widths[:-1]), 6, f"{t['tax']} {Decimal(rate).normalize()} %", align="R")
                pdf.cell(
                    widths[-1],
                    6,
                    money_filter({"amount": str(tax.quantize(Decimal("0.01"))), "currency": currency}),
                    align="R",
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(sum(widths[:-1]), 7, t["gross"], align="R")
        pdf.cell(widths[-1], 7, money_filter(order["total"]), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
        if kind == "invoice" and order.get("paid_at"):
            pdf.ln(6)
            pdf.cell(0, 5, f"{t['paid']} {date_filter(order['paid_at'])}.", new_x="LMARGIN", new_y="NEXT")
        elif kind in ("invoice", "payment_reminder") and shop.get("iban"):
            pdf.ln(6)
            pdf.multi_cell(
                0,
                5,
                f"{t['pay']}: {shop.get('name')}, IBAN {shop['iban']}"
                + (f", BIC {shop['bic']}" if shop.get("bic") else ""),
            )
    pdf.ln(6)
    pdf.cell(0, 5, t["thanks"], new_x="LMARGIN", new_y="NEXT")
    if shop.get("tax_id"):
        pdf.set_font("DejaVu", size=7)
        pdf.cell(0, 5, f"{t['tax_id']}: {shop['tax_id']}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output()), lang


def create_document(msg: dict[str, Any], font_dir: Path) -> Outcome:
    """Perform a pdf action: render, store private and encrypted in S3, output key and pre-signed URL."""
    global _s3
    kind = msg["action"]["document"]
    body, lang = render_document(kind, msg["context"], font_dir)
    bucket = settings().documents_bucket
    if not bucket:
        raise RuntimeError("DOCUMENTS_BUCKET is not configured")
    number = msg["context"]["order"]["number"]
    # the key is fixed per action, so doing the action again overwrites instead of duplicating
    digest = hashlib.sha256(msg["action_id"].encode()).hexdigest()[:16]
    filename = f"{LABELS[lang][kind]}-{number}.pdf".replace(" ", "_")
    key = f"shops/{msg['shop_id']}/documents/{kind}/{digest}/{filename}"
    if _s3 is None:
        _s3 = boto3.client("s3", region_name=settings().aws_region)
    _s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/pdf", ServerSideEncryption="AES256")
    url = _s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=7 * 24 * 3600)
    record_on_order(msg["shop_id"], (msg["context"].get("order") or {}).get("id"), key)
    output = {
        "bucket": bucket,
        "key": key,
        "url": url,
        "filename": filename,
        "content_type": "application/pdf",
        "document": kind,
    }
    return Outcome(provider_id=key, output=output, detail={"language": lang, "bytes": len(body)})


def record_on_order(shop_id: str, order_id: str | None, key: str) -> None:
    """Note the document's S3 key on its order, so the customer portal can offer it for download.

    ADD to a string set is idempotent (a redone PDF action adds nothing). The update also bumps the
    order's version, so an import writing the same order concurrently retries instead of dropping it.
    """
    from pynamodb.exceptions import UpdateError

    from .store.tables import OrderItem

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
