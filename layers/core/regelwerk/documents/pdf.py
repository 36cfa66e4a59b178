"""PDF documents: order documents (invoice, delivery note, payment reminder, credit note) and an
invoice's dunning letters (payment reminder, first dunning, final notice), rendered to bytes.

An invoice is a Factur-X PDF (PDF/A-3 with its EN 16931 XML embedded) and, while unpaid in euros to
a shop with an IBAN, carries an EPC payment QR code (GiroCode).

Imported only by the PDF handler (``actions.documents`` stores them): fpdf2 and the e-invoice
libraries stay out of every other function's cold start.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from ..errors import ActionFailed
from ..model.money import minor_units, to_decimal
from . import einvoice
from .branding import load_logo
from .templates import current_locale, date_filter, money_filter

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
        "due_now": "Zahlbar sofort ohne Abzug.",
        "scan_to_pay": "Zahlen mit Code",
        "shipping": "Versand",
        "discount": "Rabatt",
        "surcharge": "Sonstige Kosten",
        # the dunning letter
        "first_dunning": "1. Mahnung",
        "final_notice": "Letzte Mahnung",
        "dunning_file": "Mahnung",
        "hello": "Guten Tag {name},",
        "hello_anonymous": "Sehr geehrte Damen und Herren,",
        "body_payment_reminder": "vielleicht haben Sie unsere Rechnung {number} vom {issued} übersehen: Sie war am "
        "{due} fällig, einen Zahlungseingang konnten wir bisher nicht feststellen. Bitte überweisen Sie den offenen "
        "Betrag von {total} in den nächsten Tagen.{fee_note}",
        "body_first_dunning": "leider ist unsere Rechnung {number} vom {issued}, fällig am {due}, noch immer nicht "
        "beglichen. Bitte überweisen Sie den Gesamtbetrag von {total} umgehend.{fee_note}",
        "body_final_notice": "trotz unserer bisherigen Erinnerungen ist unsere Rechnung {number} vom {issued}, fällig "
        "am {due}, noch immer nicht beglichen. Bitte überweisen Sie den Gesamtbetrag von {total} bis spätestens "
        "{deadline}.{fee_note} Geht bis dahin keine Zahlung bei uns ein, behalten wir uns weitere Schritte vor.",
        "body_fee": " Darin enthalten ist eine Mahngebühr von {fee}.",
        "already_paid_hint": "Sollten Sie die Zahlung bereits veranlasst haben, betrachten Sie dieses Schreiben bitte "
        "als gegenstandslos.",
        "regards": "Mit freundlichen Grüßen",
        "invoice_number": "Rechnungsnummer",
        "invoice_date": "Rechnungsdatum",
        "delivery_date": "Lieferdatum",
        "order_date": "Bestelldatum",
        "pay_by": "Zahlbar ohne Abzug bis zum {due}.",
        "due_date": "Fällig am",
        "days_overdue": "Tage überfällig",
        "invoice_amount": "Rechnungsbetrag",
        "already_paid": "Bereits bezahlt",
        "open_amount": "Offener Betrag",
        "dunning_fee": "Mahngebühr",
        "total_due": "Jetzt zu zahlen",
        "reference": "Verwendungszweck",
        "pay_online": "Oder bezahlen Sie online",
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
        "due_now": "Payable immediately without deduction.",
        "scan_to_pay": "Scan to pay",
        "shipping": "Shipping",
        "discount": "Discount",
        "surcharge": "Other charges",
        # the dunning letter
        "first_dunning": "First reminder notice",
        "final_notice": "Final notice",
        "dunning_file": "Reminder",
        "hello": "Dear {name},",
        "hello_anonymous": "Dear Sir or Madam,",
        "body_payment_reminder": "Perhaps our invoice {number} of {issued} has been overlooked: it was due on {due}, "
        "and we have not received your payment yet. Please transfer the outstanding amount of {total} within the "
        "next few days.{fee_note}",
        "body_first_dunning": "Unfortunately, our invoice {number} of {issued}, due on {due}, is still unpaid. Please "
        "transfer the total of {total} without delay.{fee_note}",
        "body_final_notice": "Despite our previous reminders, our invoice {number} of {issued}, due on {due}, is still "
        "unpaid. Please transfer the total of {total} by {deadline} at the latest.{fee_note} If we have not received "
        "your payment by then, further steps may follow.",
        "body_fee": " This includes a dunning fee of {fee}.",
        "already_paid_hint": "If you have already paid, please disregard this letter.",
        "regards": "Kind regards",
        "invoice_number": "Invoice number",
        "delivery_date": "Date of delivery",
        "order_date": "Order date",
        "pay_by": "Payable without deduction by {due}.",
        "invoice_date": "Invoice date",
        "due_date": "Due date",
        "days_overdue": "Days overdue",
        "invoice_amount": "Invoice amount",
        "already_paid": "Already paid",
        "open_amount": "Open amount",
        "dunning_fee": "Dunning fee",
        "total_due": "Total now due",
        "reference": "Reference",
        "pay_online": "Or pay online",
    },
}


def _language(ctx: dict[str, Any]) -> str:
    for lang in (
        (ctx.get("customer") or {}).get("language"),
        (ctx.get("order") or {}).get("language"),
        (ctx.get("shop") or {}).get("language"),
    ):
        if lang and lang[:2] in LABELS:
            return lang[:2]
    return "en"


QR_MM = 30  # EPC QR codes should print at least 2 cm wide; 30 mm keeps a phone camera at ease
_fonts: dict[tuple[Path, str], tuple[TTFFont, bytes]] = {}  # parsed once per warm container


class _Document(FPDF):
    def __init__(self, font_dir: Path, compliance: str | None = None):
        super().__init__(format="A4", enforce_compliance=compliance)
        self._add_parsed_font("DejaVu", "", font_dir / "DejaVuSans.ttf")
        self._add_parsed_font("DejaVu", "B", font_dir / "DejaVuSans-Bold.ttf")
        self.set_font("DejaVu", size=10)
        self.set_auto_page_break(True, margin=20)

    def _add_parsed_font(self, family: str, style: str, path: Path) -> None:
        """``add_font`` with the TTF parsed once per container instead of once per document (~5 ms a document).

        fpdf2 reads the character map and widths of the whole font on every ``add_font``. Those are the
        same for every document, so each document gets a copy of a font parsed before, with what is its
        own: a fresh fontTools object (the subsetter cuts it down in place on output), its subset, its
        font descriptor (output numbers it as a PDF object) and the glyphs it found missing. The same
        sharing fpdf2 does itself in ``TTFFont.__deepcopy__``; fpdf2 is pinned in requirements.txt.
        """
        key = f"{family.lower()}{style}"
        parsed = _fonts.get((path, key))
        if parsed is None:
            probe = FPDF()
            probe.add_font(family, style, str(path))
            parsed_font = probe.fonts[key]
            assert isinstance(parsed_font, TTFFont)
            parsed = _fonts[(path, key)] = (parsed_font, path.read_bytes())
        template, data = parsed
        font = copy.copy(template)
        font.i = len(self.fonts) + 1
        font.ttfont = TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
        font.desc = copy.copy(template.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.subset = SubsetMap(font)
        self.fonts[key] = font


def _use_locale(lang: str, country: str | None, shop: dict[str, Any]) -> None:
    """Money and dates in the customer's language and country, dates in the shop's time zone."""
    current_locale.locale = f"{lang}_{country}" if country else lang
    try:
        Locale.parse(current_locale.locale)
    except (UnknownLocaleError, ValueError):
        current_locale.locale = lang  # a German customer in Ukraine: de_UA is no locale, German it is
    current_locale.tz = shop.get("time_zone") or "UTC"


def _letterhead(pdf: FPDF, shop: dict[str, Any]) -> None:

    logo = load_logo(shop.get("id"))
    if logo:  # top right, 18 mm high, beside the shop's name
        pdf.image(BytesIO(logo), x=pdf.w - pdf.r_margin - 50, y=pdf.t_margin, w=50, h=18, keep_aspect_ratio=True)
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, shop.get("name", ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=8)
    for line in shop.get("address_lines") or []:
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)


def _address_lines(address: dict[str, Any]) -> list[str]:
    street = " ".join(p for p in (address.get("street"), address.get("house_number")) if p)
    lines = (
        address.get("company"),
        address.get("name"),
        street,
        address.get("street2"),
        " ".join(p for p in (address.get("zip"), address.get("city")) if p),
        address.get("country"),
    )
    return [line for line in lines if line]


def render_document(kind: str, ctx: dict[str, Any], font_dir: Path) -> tuple[bytes, str]:
    """Render one order document, or a dunning letter for an invoice; returns (PDF bytes, language)."""
    if kind == "dunning_letter":
        return _render_dunning_letter(ctx, font_dir)
    order = ctx.get("order")
    if not order:
        raise ActionFailed(f"a {kind} needs an order in the event")
    lang = _language(ctx)
    t = LABELS[lang]
    shop = ctx.get("shop") or {}
    country = (order.get("billing_address") or order.get("shipping_address") or {}).get("country")
    _use_locale(lang, country, shop)

    prefix = {"invoice": "RE", "delivery_note": "LS", "payment_reminder": "ZE", "credit_note": "GS"}[kind]
    # the number and date the shop's sequence gave this document (actions/documents.py); a preview has none
    allocated = ctx.get("document") or {}
    number = allocated.get("number") or f"{prefix}-{order['number']}"
    issued_on = date.fromisoformat(allocated["issued_on"]) if allocated.get("issued_on") else None
    invoice = kind == "invoice"
    figures = None
    due: date | None = None
    delivered: date | None = None
    if invoice:
        try:
            figures = einvoice.breakdown(order)
        except ValueError as exc:
            raise ActionFailed(f"invoice {number}: {exc}") from exc

    # a Factur-X invoice must be PDF/A-3: fpdf2 then adds the sRGB output intent and the XMP it needs
    pdf = _Document(font_dir, "PDF/A-3B" if invoice else None)
    pdf.add_page()
    _letterhead(pdf, shop)
    address = order.get("billing_address") if kind == "invoice" else order.get("shipping_address")
    address = address or order.get("billing_address") or order.get("shipping_address") or {}
    pdf.set_font("DejaVu", size=10)
    for line in _address_lines(address):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, t[kind], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    numbering = shop.get("numbering") or {}
    header = f"{t['number']}: {number}    {t['order']}: {order['number']}    "
    if invoice:
        issued_on = issued_on or _local_date(None, current_locale.tz)
        delivered = delivery_date(order, numbering, current_locale.tz)
        header += f"{t['invoice_date']}: {_day(issued_on)}"
        pdf.cell(0, 5, header, new_x="LMARGIN", new_y="NEXT")
        pdf.cell(
            0,
            5,
            f"{t['order_date']}: {date_filter(order.get('created_at'))}    "
            f"{t['delivery_date']}: {_day(delivered) if delivered else '-'}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    else:
        header += f"{t['date']}: {date_filter(order.get('created_at'))}"
        pdf.cell(0, 5, header, new_x="LMARGIN", new_y="NEXT")
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
    terms = None
    currency = order["currency"]
    for item in order.get("line_items") or []:
        row = [item.get("sku") or "", item["name"][:60], quantity_text(item)]
        if with_prices:
            row += [unit_price_text(item["unit_price"]), money_filter(item["total"])]
            rate = Decimal(item.get("tax_rate") or "0")
            gross = Decimal(item["total"]["amount"])
            taxes[str(rate)] = taxes.get(str(rate), Decimal(0)) + gross - gross / (1 + rate / 100)
        for i, (w, v) in enumerate(zip(widths, row, strict=False)):
            pdf.cell(w, 6, v, align="R" if i >= 2 else "L")
        pdf.ln()
    if figures is not None:
        # the invoice shows the figures its XML states: shipping and discounts, VAT per rate including their share
        for key, sign in (("shipping", 1), ("surcharge", 1), ("discount", -1)):
            amount = figures.gross_of(key)
            if amount:
                pdf.cell(sum(widths[:-1]), 6, t[key], align="R")
                pdf.cell(widths[-1], 6, money_filter({"amount": str(sign * amount), "currency": currency}), align="R")
                pdf.ln()
        taxes = {str(group.rate): group.tax for group in figures.taxes}  # by rate, lowest first
    if with_prices:
        pdf.ln(2)
        for rate_key, tax in taxes.items() if figures is not None else sorted(taxes.items()):
            if tax:
                pdf.cell(sum(widths[:-1]), 6, f"{t['tax']} {Decimal(rate_key).normalize()} %", align="R")
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
            terms = f"{t['paid']} {date_filter(order['paid_at'])}."
        elif kind in ("invoice", "payment_reminder") and shop.get("iban"):
            terms = f"{t['pay']}: {shop.get('name')}, IBAN {shop['iban']}" + (
                f", BIC {shop['bic']}" if shop.get("bic") else ""
            )
        if invoice and not order.get("paid_at") and Decimal(order["total"]["amount"]) > 0:
            days = int(numbering.get("payment_terms_days", 14))
            due = due_date(issued_on or _local_date(None, current_locale.tz), days)
            terms = (t["pay_by"].format(due=_day(due)) if days else t["due_now"]) + (
                f" {terms}" if terms else ""
            )  # EN 16931 wants terms or a due date on anything still to pay
        if terms:
            pdf.ln(6)
            pdf.multi_cell(0, 5, terms, new_x="LMARGIN", new_y="NEXT")
        payload = einvoice.invoice_qr_payload(ctx, number) if invoice else None
        if payload:
            pdf.ln(3)
            pdf.image(einvoice.epc_qr_image(payload), x=pdf.l_margin, w=QR_MM, h=QR_MM)
            pdf.set_font("DejaVu", size=7)
            pdf.cell(QR_MM, 4, t["scan_to_pay"], align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", size=9)
    pdf.ln(6)
    pdf.cell(0, 5, t["thanks"], new_x="LMARGIN", new_y="NEXT")
    if shop.get("tax_id"):
        pdf.set_font("DejaVu", size=7)
        pdf.cell(0, 5, f"{t['tax_id']}: {shop['tax_id']}", new_x="LMARGIN", new_y="NEXT")
    body = bytes(pdf.output())
    if figures is not None:
        xml = einvoice.invoice_xml(
            ctx,
            number,
            issued_on or _local_date(None, current_locale.tz),
            due_date=due,
            delivered=delivered,
            terms=terms,
            labels={key: t[key] for key in ("shipping", "discount", "surcharge")},
            figures=figures,
        )
        body = einvoice.embed_facturx(body, xml, lang=f"{lang}-{country}" if country else lang)
    return body, lang


def delivery_date(order: dict[str, Any], numbering: dict[str, Any], tz: str) -> date | None:
    """The date of delivery (Leistungsdatum) in the shop's time zone: the shipping day, or the order
    day where the shop says so (or nothing was shipped yet, as for goods handed over at checkout)."""
    when = order.get("shipped_at") if numbering.get("delivery_date", "shipped") == "shipped" else None
    when = when or order.get("created_at")
    return _local_date(when, tz) if when else None


def _day(day: date) -> str:
    """A calendar day in the document's locale (a date has no time zone to convert)."""
    from babel.dates import format_date

    return format_date(day, "medium", locale=current_locale.locale)


def due_date(issued_on: date, days: int) -> date:
    return issued_on + timedelta(days=days)


def quantity_text(item: dict[str, Any]) -> str:
    """A line's quantity in the document's locale with its unit: "2", "1,5 kg"."""
    from babel.numbers import format_decimal

    text = format_decimal(Decimal(str(item["quantity"])), locale=current_locale.locale, decimal_quantization=False)
    return f"{text} {item['unit']}" if item.get("unit") else text


def unit_price_text(price: dict[str, str]) -> str:
    """A unit price as precise as the platform charged it, up to 4 decimals: "3,225 €", "12,90 €".

    The line total next to it is the platform's own; a unit price rounded to cents would make
    2 x 3,23 € look like a cent off 6,45 €."""
    from babel.numbers import format_currency

    amount = Decimal(price["amount"]).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return format_currency(amount, price["currency"], locale=current_locale.locale, decimal_quantization=False)


def _local_date(value: str | None, tz: str) -> date:
    """The day of a moment (an ISO string; now when None) in the shop's time zone, e.g. the invoice date."""
    when = datetime.fromisoformat(value) if value else datetime.now(ZoneInfo(tz))
    return when.astimezone(ZoneInfo(tz)).date()


DUNNING_STEPS = ("payment_reminder", "first_dunning", "final_notice")
FINAL_NOTICE_DAYS = 7  # the deadline a final notice sets


@dataclass(frozen=True, slots=True)
class DunningFigures:
    """What a dunning letter asks for, each quantized to the currency's minor unit."""

    currency: str
    amount: Decimal  # the invoice amount
    paid: Decimal
    open: Decimal  # amount - paid
    fee: Decimal
    total: Decimal  # open + fee: the total now due


def dunning_figures(invoice: dict[str, Any], dunning: dict[str, Any]) -> DunningFigures:
    """The figures of a dunning letter from the invoice context (money as {amount, currency}) and the
    dunning level (``fee`` a decimal string). Decimal throughout; raises ValueError on a float, a
    negative fee or an amount in another currency than the invoice's."""
    currency = invoice["currency"]
    quantum = Decimal(1).scaleb(-minor_units(currency))

    def amount_of(money: dict[str, Any] | None) -> Decimal:
        if not money:
            return Decimal(0).quantize(quantum)
        if money.get("currency", currency) != currency:
            raise ValueError(f"an amount in {money['currency']} on an invoice in {currency}")
        return to_decimal(money["amount"]).quantize(quantum, rounding=ROUND_HALF_UP)

    amount, paid = amount_of(invoice["amount"]), amount_of(invoice.get("amount_paid"))
    fee = to_decimal(dunning.get("fee") or "0").quantize(quantum, rounding=ROUND_HALF_UP)
    if fee < 0:
        raise ValueError(f"a dunning fee cannot be negative: {fee}")
    return DunningFigures(currency, amount, paid, amount - paid, fee, amount - paid + fee)


def dunning_step(dunning: dict[str, Any]) -> str:
    """Which letter a dunning level is: its name where that is one of the three letters, else by level
    (1 the reminder, 2 the first dunning, 3 and above the final notice)."""
    name = dunning.get("name")
    if name in DUNNING_STEPS:
        return name
    return DUNNING_STEPS[min(int(dunning["level"]), len(DUNNING_STEPS)) - 1]


def _dunning_level(ctx: dict[str, Any]) -> dict[str, Any]:
    """The dunning level the letter is for: the event's, else the invoice's current one."""
    invoice = ctx.get("invoice")
    if not invoice:
        raise ActionFailed("a dunning_letter needs an invoice in the event")
    dunning = ctx.get("dunning") or {"level": invoice.get("dunning_level") or 0}
    if not isinstance(dunning.get("level"), int) or dunning["level"] < 1:
        raise ActionFailed(f"dunning letter for invoice {invoice['number']}: the event has no dunning level")
    return dunning


def _render_dunning_letter(ctx: dict[str, Any], font_dir: Path) -> tuple[bytes, str]:
    """A payment reminder, first dunning or final notice for an overdue invoice, with the total now due
    (open amount plus the level's fee), how to pay it and, for euros to a shop with an IBAN, a GiroCode."""
    from babel.dates import format_date  # Babel's locale data loads when a letter is dated

    dunning = _dunning_level(ctx)
    invoice = ctx["invoice"]
    number = invoice["number"]
    if invoice.get("status") in ("draft", "paid", "void", "cancelled"):
        raise ActionFailed(f"invoice {number} is {invoice['status']}: no dunning letter")
    try:
        figures = dunning_figures(invoice, dunning)
    except (KeyError, ValueError) as exc:
        raise ActionFailed(f"dunning letter for invoice {number}: {exc}") from exc
    if figures.open <= 0:
        raise ActionFailed(f"invoice {number} has nothing open: no dunning letter")
    lang = _language(ctx)
    t = LABELS[lang]
    shop, order, customer = ctx.get("shop") or {}, ctx.get("order") or {}, ctx.get("customer") or {}
    address = order.get("billing_address") or order.get("shipping_address") or {}
    _use_locale(lang, address.get("country") or customer.get("country"), shop)
    # "today" is the day the event came in, so the same action renders the same letter when done again
    today = _local_date((ctx.get("event") or {}).get("received_at"), current_locale.tz)
    overdue = max((today - _local_date(invoice["due_at"], current_locale.tz)).days, 0)

    def money(amount: Decimal) -> str:
        return money_filter({"amount": str(amount), "currency": figures.currency})

    def day(value: date) -> str:
        return format_date(value, "medium", locale=current_locale.locale)

    pdf = _Document(font_dir)
    pdf.add_page()
    _letterhead(pdf, shop)
    # the return address a window envelope shows above the recipient
    pdf.set_font("DejaVu", size=7)
    pdf.cell(0, 4, " · ".join(shop.get("address_lines") or [shop.get("name", "")]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("DejaVu", size=10)
    name = address.get("name") or customer.get("name")
    for line in _address_lines(address) or [name or ""]:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.cell(0, 5, f"{t['date']}: {day(today)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    step = dunning_step(dunning)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, t[step], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.ln(2)
    pdf.multi_cell(0, 5, t["hello"].format(name=name) if name else t["hello_anonymous"], new_x="LMARGIN")
    pdf.ln(2)
    body = t[f"body_{step}"].format(
        number=number,
        issued=date_filter(invoice["issued_at"]),
        due=date_filter(invoice["due_at"]),
        total=money(figures.total),
        deadline=day(today + timedelta(days=FINAL_NOTICE_DAYS)),
        fee_note=t["body_fee"].format(fee=money(figures.fee)) if figures.fee else "",
    )
    pdf.multi_cell(0, 5, body, align="L", new_x="LMARGIN")
    pdf.ln(4)

    payload = None
    if shop.get("iban") and figures.currency == "EUR" and figures.total <= einvoice.EPC_MAX_AMOUNT:
        payload = einvoice.epc_qr_payload(
            shop.get("name") or "", shop["iban"], figures.total, bic=shop.get("bic"), text=number
        )
    rows = [
        (t["invoice_number"], number),
        (t["invoice_date"], date_filter(invoice["issued_at"])),
        (t["due_date"], date_filter(invoice["due_at"])),
        (t["days_overdue"], str(overdue)),
        (t["invoice_amount"], money(figures.amount)),
        (t["already_paid"], money(figures.paid)),
        (t["open_amount"], money(figures.open)),
    ]
    if figures.fee:
        rows.append((t["dunning_fee"], money(figures.fee)))
    top = pdf.get_y()
    for label, value in rows:
        pdf.cell(70, 6, label)
        pdf.cell(40, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(70, 7, t["total_due"], border="T")
    pdf.cell(40, 7, money(figures.total), border="T", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    below_table = pdf.get_y()
    if payload:
        # the GiroCode beside the figures, for the total now due
        x = pdf.w - pdf.r_margin - QR_MM
        pdf.image(einvoice.epc_qr_image(payload), x=x, y=top, w=QR_MM, h=QR_MM)
        pdf.set_xy(x, top + QR_MM)
        pdf.set_font("DejaVu", size=7)
        pdf.cell(QR_MM, 4, t["scan_to_pay"], align="C")
        pdf.set_font("DejaVu", size=10)
        pdf.set_xy(pdf.l_margin, max(below_table, top + QR_MM + 4))

    if shop.get("iban"):
        pdf.ln(5)
        bank = f"IBAN {shop['iban']}" + (f" · BIC {shop['bic']}" if shop.get("bic") else "")
        lines = (f"{t['pay']}: {shop.get('name')}", bank, f"{t['reference']}: {number}")
        pdf.multi_cell(0, 5, "\n".join(lines), align="L", new_x="LMARGIN")
    if invoice.get("payment_url"):
        pdf.ln(3)
        text = f"{t['pay_online']}: {invoice['payment_url']}"
        pdf.multi_cell(0, 5, text, align="L", link=invoice["payment_url"], new_x="LMARGIN")
    pdf.ln(6)
    pdf.multi_cell(0, 5, t["already_paid_hint"], align="L", new_x="LMARGIN")
    pdf.ln(4)
    pdf.cell(0, 5, t["regards"], new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, shop.get("name", ""), new_x="LMARGIN", new_y="NEXT")
    if shop.get("tax_id"):
        pdf.ln(4)
        pdf.set_font("DejaVu", size=7)
        pdf.cell(0, 5, f"{t['tax_id']}: {shop['tax_id']}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output()), lang


def document_filename(kind: str, ctx: dict[str, Any], lang: str) -> str:
    """``Rechnung-1001.pdf`` for an order's documents, ``Mahnung-2-R-2026-0042.pdf`` for a dunning letter."""
    t = LABELS[lang]
    if kind == "dunning_letter":
        level = _dunning_level(ctx)["level"]
        return f"{t['dunning_file']}-{level}-{ctx['invoice']['number']}.pdf".replace(" ", "_").replace("/", "-")
    number = (ctx.get("document") or {}).get("number") or ctx["order"]["number"]  # the invoice's own number
    return f"{t[kind]}-{number}.pdf".replace(" ", "_").replace("/", "-")
