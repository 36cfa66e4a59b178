"""PDF documents: order documents (invoice, delivery note, payment reminder, credit note) and an
invoice's dunning letters (payment reminder, first dunning, final notice), rendered to bytes.

Each is a DIN 5008 form B letter: the recipient in an envelope's window, number and dates beside
it, the seller's legal details and the page count in the footer of every page. An invoice and a
credit note (Rechnungskorrektur) are Factur-X PDFs (PDF/A-3 with their EN 16931 XML embedded) with
what §14(4) UStG asks of them; an invoice, while unpaid in euros to a shop with an IBAN, carries an
EPC payment QR code (GiroCode).

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
        "credit_note": "Rechnungskorrektur",
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
        # the order documents' legal content (§14(4) UStG)
        "credit_note_file": "Gutschrift",
        "pos": "Pos.",
        "vat_rate": "USt.-Satz",
        "net_amount": "Nettobetrag",
        "vat_amount": "USt.",
        "gross_amount": "Bruttobetrag",
        "sum": "Summe",
        "order_number": "Bestellnummer",
        "buyer_vat_id": "Ihre USt-IdNr.",
        "seller_vat_id": "Unsere USt-IdNr.",
        "tax_number": "Steuernummer",
        "registry": "Registergericht",
        "directors": "Geschäftsführung",
        "page": "Seite {n} von {nb}",
        "corrects": "Zur Rechnung",
        "corrects_text": "Wir korrigieren unsere Rechnung {number} vom {issued} wie folgt.",
        "corrects_order": "Wir korrigieren unsere Rechnung zur Bestellung {order} wie folgt.",
        "reason": "Grund",
        "refund": "Erstattung",
        "refunded_on": "Der Betrag von {amount} wurde am {day} erstattet.",
        "credit_total": "Gutschriftsbetrag",
        "tax_in": "Umsatzsteuer in {currency}",
        "exemption_small_business": "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
        "exemption_reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)",
        "exemption_intra_community": "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b i. V. m. § 6a UStG)",
        "exemption_export": "Steuerfreie Ausfuhrlieferung",
        "both_vat_ids": "USt-IdNr. des Leistenden: {seller}, USt-IdNr. des Leistungsempfängers: {buyer}",
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
        # the order documents' legal content (Art. 226 VAT directive)
        "credit_note_file": "Credit_note",
        "pos": "No.",
        "vat_rate": "VAT rate",
        "net_amount": "Net amount",
        "vat_amount": "VAT",
        "gross_amount": "Gross amount",
        "sum": "Total",
        "order_number": "Order number",
        "buyer_vat_id": "Your VAT ID",
        "seller_vat_id": "Our VAT ID",
        "tax_number": "Tax number",
        "registry": "Registry court",
        "directors": "Managing directors",
        "page": "Page {n} of {nb}",
        "corrects": "Corrects invoice",
        "corrects_text": "This credit note corrects our invoice {number} of {issued} as follows.",
        "corrects_order": "This credit note corrects our invoice for order {order} as follows.",
        "reason": "Reason",
        "refund": "Refund",
        "refunded_on": "The amount of {amount} was refunded on {day}.",
        "credit_total": "Total credited",
        "tax_in": "VAT in {currency}",
        "exemption_small_business": "VAT exempt under § 19 UStG (small business).",
        "exemption_reverse_charge": "Reverse charge: VAT to be accounted for by the recipient",
        "exemption_intra_community": "Intra-community supply, exempt from VAT (Art. 138 Directive 2006/112/EC)",
        "exemption_export": "Export outside the EU, VAT exempt",
        "both_vat_ids": "Supplier's VAT ID: {seller}, customer's VAT ID: {buyer}",
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


FOOTER_MM = 24  # the footer's height from the bottom edge: page number and three lines of legal details
QR_MM = 30  # EPC QR codes should print at least 2 cm wide; 30 mm keeps a phone camera at ease
_fonts: dict[tuple[Path, str], tuple[TTFFont, bytes]] = {}  # parsed once per warm container


class _Document(FPDF):
    def __init__(
        self,
        font_dir: Path,
        compliance: str | None = None,
        *,
        footer_lines: list[str] | None = None,
        page_label: str | None = None,
    ):
        super().__init__(format="A4", enforce_compliance=compliance)
        self._add_parsed_font("DejaVu", "", font_dir / "DejaVuSans.ttf")
        self._add_parsed_font("DejaVu", "B", font_dir / "DejaVuSans-Bold.ttf")
        self.set_font("DejaVu", size=10)
        self.footer_lines = footer_lines or []
        self.page_label = page_label
        if page_label:
            self.alias_nb_pages()  # "{nb}": the page count, filled in when the document is done
        self.set_auto_page_break(True, margin=FOOTER_MM + 4 if self.footer_lines or page_label else 20)

    def footer(self) -> None:
        """The seller's legal details (§14(4) UStG, §35a GmbHG) and "Page n of m" on every page."""
        if not self.footer_lines and not self.page_label:
            return
        family, style, size = self.font_family, self.font_style, self.font_size_pt
        self.set_y(-FOOTER_MM)
        self.set_font("DejaVu", size=7)
        if self.page_label:
            self.cell(0, 3.5, self.page_label.format(n=self.page_no(), nb="{nb}"), align="R")
            self.ln(4)
        if self.footer_lines:
            self.set_draw_color(160)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.ln(1)
            self.multi_cell(0, 3.2, "\n".join(self.footer_lines), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font(family, style, size)

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


def _address_lines(address: dict[str, Any], home: str | None = None) -> list[str]:
    """An address as a letter prints it; with ``home`` (the sender's country) DIN 5008's way: no
    country at home, the country's name in capitals abroad."""
    street = " ".join(p for p in (address.get("street"), address.get("house_number")) if p)
    country = address.get("country")
    if home and country:
        country = None if country == home else _country_name(country).upper()
    lines = (
        address.get("company"),
        address.get("name"),
        street,
        address.get("street2"),
        " ".join(p for p in (address.get("zip"), address.get("city")) if p),
        country,
    )
    return [line for line in lines if line]


def _country_name(code: str) -> str:
    try:
        return str(Locale.parse(current_locale.locale).territories.get(code, code))
    except (UnknownLocaleError, ValueError):
        return code


def render_document(kind: str, ctx: dict[str, Any], font_dir: Path) -> tuple[bytes, str]:
    """Render one order document, or a dunning letter for an invoice; returns (PDF bytes, language).

    Order documents carry what §14(4) UStG and Art. 226 of the VAT directive ask of an invoice: the
    seller's name, address, VAT id or tax number and registry details in a footer on every page,
    the buyer's name and address in the window of a DIN 5008 form B envelope (with the buyer's VAT
    id for a business), number, date, date of delivery, each item's quantity and description,
    net amount, rate and VAT per rate, the total and the payment terms. An invoice and a credit
    note embed their EN 16931 XML (PDF/A-3B, Factur-X).
    """
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
    credit = kind == "credit_note"
    e_invoice = kind in ("invoice", "credit_note")  # documents that carry EN 16931 XML
    case = einvoice.vat_case(ctx)
    # the refund the pdf action was given; a preview shows the order's latest
    refund = ctx.get("refund") or ([None, *(order.get("refunds") or [])][-1]) or {}
    figures = None
    if credit and not refund:
        raise ActionFailed("a credit_note is made for a refund: the event has none, nor has the order")
    if kind == "invoice":
        try:
            figures = einvoice.breakdown(order, case)
        except ValueError as exc:
            raise ActionFailed(f"invoice {number}: {exc}") from exc
    elif credit:
        try:
            figures = einvoice.credit_note_breakdown(refund, order, case, label=t["refund"])
        except (KeyError, ValueError) as exc:
            raise ActionFailed(f"credit note {number}: {exc}") from exc
    elif kind == "payment_reminder":
        try:
            figures = einvoice.breakdown(order, case)
        except ValueError:
            figures = None  # a reminder of an order that does not add up still lists what it charged

    # a Factur-X document must be PDF/A-3: fpdf2 then adds the sRGB output intent and the XMP it needs
    pdf = _Document(
        font_dir,
        "PDF/A-3B" if e_invoice else None,
        footer_lines=legal_lines(shop, t),
        page_label=t["page"],
    )
    pdf.set_margins(LEFT_MM, 10, RIGHT_MM)
    pdf.add_page()
    _letterhead(pdf, shop)
    address = order.get("billing_address") if e_invoice else order.get("shipping_address")
    address = address or order.get("billing_address") or order.get("shipping_address") or {}
    customer = order.get("customer") or {}
    person = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    home = einvoice.seller_country(shop)
    _window_address(pdf, shop, _address_lines(address, home) or [person or customer.get("email") or ""])

    numbering = shop.get("numbering") or {}
    tz = current_locale.tz
    delivered = delivery_date(order, numbering, tz) if e_invoice else None
    if e_invoice:
        issued_on = issued_on or _local_date(None, tz)
    corrects = allocated.get("corrects") if credit else None
    info = [(t["invoice_number"] if kind == "invoice" else t["number"], number)]
    if issued_on:
        info.append((t["invoice_date"] if kind == "invoice" else t["date"], _day(issued_on)))
    else:
        info.append((t["date"], date_filter(order.get("created_at"))))
    if corrects:
        info.append((t["corrects"], corrects["number"]))
        if corrects.get("issued_on"):
            info.append((t["invoice_date"], _day(date.fromisoformat(corrects["issued_on"]))))
    if e_invoice:
        info.append((t["delivery_date"], _day(delivered) if delivered else "-"))
    info.append((t["order_number"], str(order["number"])))
    if issued_on:  # else the document's date is the order's, said above
        info.append((t["order_date"], date_filter(order.get("created_at"))))
    if case.buyer_vat_id and kind != "delivery_note":
        info.append((t["buyer_vat_id"], case.buyer_vat_id))
    if e_invoice:
        tax_number = einvoice.seller_tax_number(shop)
        if case.seller_vat_id:
            info.append((t["seller_vat_id"], case.seller_vat_id))
        elif tax_number:
            info.append((t["tax_number"], tax_number))
    _info_block(pdf, info)

    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, t[kind], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    if credit:
        if corrects:
            issued = _day(date.fromisoformat(corrects["issued_on"])) if corrects.get("issued_on") else "-"
            text = t["corrects_text"].format(number=corrects["number"], issued=issued)
        else:
            text = t["corrects_order"].format(order=order["number"])
        if refund.get("reason"):
            text += f" {t['reason']}: {refund['reason']}"
        pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    currency = order["currency"]
    sign = Decimal(-1) if credit else Decimal(1)  # a credit note shows what it takes back as negative amounts

    def money(amount: Decimal) -> str:
        return money_filter({"amount": str(amount or abs(amount)), "currency": currency})  # never "-0,00 €"

    if kind == "delivery_note":
        rows = [
            [str(i), item.get("sku") or "", item["name"], quantity_text(item)]
            for i, item in enumerate(order.get("line_items") or [], 1)
        ]
        _items_table(pdf, [t["pos"], t["sku"], t["item"], t["qty"]], rows, (10, 35, 95, 25), "RLLR")
    else:
        if figures is not None:
            rows = [
                [
                    str(line.position),
                    line.sku or "",
                    line.name,
                    quantity_text({"quantity": str(line.quantity), "unit": line.unit}),
                    unit_price_text({"amount": str(sign * line.gross / line.quantity), "currency": currency}),
                    f"{_percent(line.rate)} %",
                    money(sign * line.gross),
                ]
                for line in figures.lines
            ]
        else:  # a payment reminder of an order that does not add up: its lines as charged
            rows = [
                [
                    str(i),
                    item.get("sku") or "",
                    item["name"],
                    quantity_text(item),
                    unit_price_text(item["unit_price"]),
                    f"{_percent(Decimal(item.get('tax_rate') or '0'))} %",
                    money_filter(item["total"]),
                ]
                for i, item in enumerate(order.get("line_items") or [], 1)
            ]
        heads = [t["pos"], t["sku"], t["item"], t["qty"], t["unit"], t["tax"], t["total"]]
        if case.category == "E":  # §19 UStG: no VAT shown, not even a rate
            heads, rows = heads[:5] + heads[6:], [row[:5] + row[6:] for row in rows]
            _items_table(pdf, heads, rows, (11, 26, 64, 18, 24, 22), "RLLRRR")
        else:
            _items_table(pdf, heads, rows, (11, 26, 50, 18, 24, 14, 22), "RLLRRRR")

    terms = None
    due: date | None = None
    if kind != "delivery_note":
        _keep_together(pdf, 60 + 6 * len(figures.taxes if figures else ()))
        pdf.ln(2)
        if figures is not None:
            for key, direction in (("shipping", 1), ("surcharge", 1), ("discount", -1)):
                amount = figures.gross_of(key)
                if amount:
                    _sum_row(pdf, t[key], money(sign * direction * amount))
        total = sign * figures.grand_total if figures is not None else Decimal(order["total"]["amount"])
        _sum_row(pdf, t["credit_total"] if credit else t["gross"], money(total), bold=True)
        if figures is not None:
            _tax_table(pdf, figures, t, sign, money)
            accounting = einvoice.tax_in_accounting_currency(order, figures, whole_order=not credit)
            if accounting and case.category != "E":  # BT-111: the VAT in the shop's own currency
                amount, books = accounting
                pdf.set_font("DejaVu", size=8)
                in_books = money_filter({"amount": str(sign * amount), "currency": books})
                pdf.cell(0, 5, f"{t['tax_in'].format(currency=books)}: {in_books}", new_x="LMARGIN", new_y="NEXT")
        if case.zero_rated:
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 9)
            pdf.multi_cell(0, 5, t[f"exemption_{case.kind}"], align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", size=9)
            if case.kind in ("reverse_charge", "intra_community"):
                both = t["both_vat_ids"].format(seller=case.seller_vat_id, buyer=case.buyer_vat_id)
                pdf.multi_cell(0, 5, both, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
        if credit:
            when = _local_date(refund.get("created_at"), tz) if refund.get("created_at") else _local_date(None, tz)
            terms = t["refunded_on"].format(
                amount=money(figures.grand_total if figures else Decimal(0)), day=_day(when)
            )
        elif kind == "invoice" and order.get("paid_at"):
            terms = f"{t['paid']} {date_filter(order['paid_at'])}."
        elif kind in ("invoice", "payment_reminder") and shop.get("iban"):
            terms = f"{t['pay']}: {shop.get('name')}, IBAN {shop['iban']}" + (
                f", BIC {shop['bic']}" if shop.get("bic") else ""
            )
        if kind == "invoice" and not order.get("paid_at") and Decimal(order["total"]["amount"]) > 0:
            days = int(numbering.get("payment_terms_days", 14))
            due = due_date(issued_on or _local_date(None, tz), days)
            terms = (t["pay_by"].format(due=_day(due)) if days else t["due_now"]) + (
                f" {terms}" if terms else ""
            )  # EN 16931 wants terms or a due date on anything still to pay
        if terms:
            pdf.ln(4)
            pdf.multi_cell(0, 5, terms, new_x="LMARGIN", new_y="NEXT")
        payload = einvoice.invoice_qr_payload(ctx, number) if kind == "invoice" else None
        if payload:
            _keep_together(pdf, QR_MM + 8)
            pdf.ln(3)
            pdf.image(einvoice.epc_qr_image(payload), x=pdf.l_margin, w=QR_MM, h=QR_MM)
            pdf.set_font("DejaVu", size=7)
            pdf.cell(QR_MM, 4, t["scan_to_pay"], align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", size=9)
    if not credit:
        pdf.ln(6)
        pdf.cell(0, 5, t["thanks"], new_x="LMARGIN", new_y="NEXT")
    body = bytes(pdf.output())
    if e_invoice and figures is not None and issued_on is not None:
        labels = {key: t[key] for key in ("shipping", "discount", "surcharge")}
        if case.zero_rated:
            labels["exemption"] = t[f"exemption_{case.kind}"]
        xml = einvoice.invoice_xml(
            ctx,
            number,
            issued_on,
            due_date=due,
            delivered=delivered,
            terms=terms,
            labels=labels,
            figures=figures,
            credit_note=credit,
            corrects=corrects,
            settled=True if credit else None,  # a credit note states a refund the platform made
        )
        body = einvoice.embed_facturx(body, xml, lang=f"{lang}-{country}" if country else lang)
    return body, lang


LEFT_MM, RIGHT_MM = 25, 20  # DIN 5008 margins
ADDRESS_X, ADDRESS_Y, ADDRESS_W, ADDRESS_H = 20, 45, 85, 45  # form B's address field, from the sheet's edges
INFO_X, INFO_Y = 125, 50  # form B's information block
BODY_Y = 98.5  # where the letter's text begins


def legal_lines(shop: dict[str, Any], t: dict[str, str]) -> list[str]:
    """The seller's details for the footer: name and address; registry court and number and the
    managing directors where the shop gives them; VAT id and tax number; the bank."""
    legal = shop.get("legal") or {}
    name = legal.get("company") or shop.get("name") or ""
    lines = [" · ".join([name, *(a for a in shop.get("address_lines") or [] if a != name)])]
    registry = []
    if legal.get("registry_court") or legal.get("registry_number"):
        registry.append(
            f"{t['registry']}: " + " ".join(p for p in (legal.get("registry_court"), legal.get("registry_number")) if p)
        )
    if legal.get("managing_directors"):
        registry.append(f"{t['directors']}: {', '.join(legal['managing_directors'])}")
    taxes = []
    vat_id, tax_number = einvoice.seller_vat_id(shop), einvoice.seller_tax_number(shop)
    if vat_id:
        taxes.append(f"{t['tax_id']} {vat_id}")
    if tax_number:
        taxes.append(f"{t['tax_number']} {tax_number}")
    if shop.get("iban"):
        taxes.append(f"IBAN {shop['iban']}" + (f" · BIC {shop['bic']}" if shop.get("bic") else ""))
    return [line for line in (lines[0], " · ".join(registry), " · ".join(taxes)) if line]


def _window_address(pdf: FPDF, shop: dict[str, Any], lines: list[str]) -> None:
    """The recipient in the address field of a DIN 5008 form B letter (85 x 45 mm, 20 mm from the
    left and 45 mm from the top edge), under the sender's one-line return address in small type."""
    inner = ADDRESS_X + 5  # the field's own 5 mm margin: the text lines up with the letter's
    pdf.set_xy(inner, ADDRESS_Y + 12)
    legal = shop.get("legal") or {}
    parsed = einvoice.seller_address(shop)
    where = [parsed.get("street", ""), f"{parsed['postcode']} {parsed['city']}"] if parsed.get("postcode") else []
    sender = " · ".join(p for p in [legal.get("company") or shop.get("name") or "", *where] if p)
    size = 6.5
    pdf.set_font("DejaVu", size=size)
    while pdf.get_string_width(sender) > ADDRESS_W - 5 and size > 5:  # one line, within the window
        size -= 0.5
        pdf.set_font("DejaVu", size=size)
    while pdf.get_string_width(sender) > ADDRESS_W - 5:
        sender = sender[:-2] + "…"
    pdf.cell(ADDRESS_W - 5, 3.5, sender, border="B")
    pdf.set_font("DejaVu", size=10)
    pdf.set_xy(inner, ADDRESS_Y + 17.7)  # the address zone: 27.3 mm, up to 6 lines
    for line in lines[:6]:
        pdf.set_x(inner)
        pdf.cell(ADDRESS_W - 5, 4.5, line, new_x="LEFT", new_y="NEXT")


def _info_block(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    """Number, dates and references beside the address field; the text begins below both."""
    pdf.set_font("DejaVu", size=8.5)
    pdf.set_y(INFO_Y)
    for label, value in rows:
        pdf.set_x(INFO_X)
        pdf.cell(32, 4.5, f"{label}:")
        pdf.cell(pdf.w - pdf.r_margin - INFO_X - 32, 4.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin, max(BODY_Y, pdf.get_y() + 6))
    pdf.set_font("DejaVu", size=10)


def _items_table(pdf: FPDF, heads: list[str], rows: list[list[str]], widths: tuple[int, ...], align: str) -> None:
    """The lines as a table whose cells wrap (a long SKU or name takes more lines, never overlaps)
    and whose header repeats on every page."""
    from fpdf.enums import TableBordersLayout, TableHeadingsDisplay

    pdf.set_font("DejaVu", size=8.5)
    aligns = tuple({"L": "LEFT", "R": "RIGHT"}[a] for a in align)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        text_align=aligns,
        line_height=4.2,
        padding=(1, 1, 1, 1),
        borders_layout=TableBordersLayout.SINGLE_TOP_LINE,
        repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
        v_align="TOP",
    ) as table:
        table.row(heads)
        for values in rows:
            table.row(values)
    pdf.set_font("DejaVu", size=10)


def _keep_together(pdf: FPDF, height: float) -> None:
    """A new page where what follows (the sums, the payment code) would not fit on this one."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _sum_row(pdf: FPDF, label: str, value: str, *, bold: bool = False) -> None:
    pdf.set_font("DejaVu", "B" if bold else "", 10 if bold else 9)
    pdf.set_x(pdf.w - pdf.r_margin - 95)
    pdf.cell(65, 6 if bold else 5, label, align="R", border="T" if bold else 0)
    pdf.cell(30, 6 if bold else 5, value, align="R", border="T" if bold else 0, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)


def _tax_table(pdf: FPDF, figures: einvoice.Breakdown, t: dict[str, str], sign: Decimal, money: Any) -> None:
    """Net amount, rate, VAT and gross per VAT rate (§14(4) no. 7 and 8 UStG); none under §19 UStG,
    where no VAT is shown."""
    if figures.case.category == "E":
        return
    pdf.ln(3)
    widths = (30, 35, 30, 35)
    pdf.set_font("DejaVu", "B", 8.5)
    for width, head in zip(widths, (t["vat_rate"], t["net_amount"], t["vat_amount"], t["gross_amount"]), strict=True):
        pdf.cell(width, 5, head, border="B", align="R")
    pdf.ln()
    pdf.set_font("DejaVu", size=8.5)
    for group in figures.taxes:
        cells = (
            f"{_percent(group.rate)} %",
            money(sign * group.basis),
            money(sign * group.tax),
            money(sign * group.gross),
        )
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 5, text, align="R")
        pdf.ln()
    if len(figures.taxes) > 1:
        basis, tax = figures.tax_basis_total, figures.tax_total
        cells = (t["sum"], money(sign * basis), money(sign * tax), money(sign * (basis + tax)))
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 5, text, align="R", border="T")
        pdf.ln()
    pdf.set_font("DejaVu", size=9)


def _percent(rate: Decimal) -> str:
    """A VAT rate as the document's locale writes it: 7, 19, 5,5."""
    from babel.numbers import format_decimal

    return format_decimal(rate.normalize(), locale=current_locale.locale, decimal_quantization=False)


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

    # a letter as the invoice is one: the recipient in the envelope's window, the seller's details in the footer
    pdf = _Document(font_dir, footer_lines=legal_lines(shop, t), page_label=t["page"])
    pdf.set_margins(LEFT_MM, 10, RIGHT_MM)
    pdf.add_page()
    _letterhead(pdf, shop)
    name = address.get("name") or customer.get("name")
    _window_address(pdf, shop, _address_lines(address, einvoice.seller_country(shop)) or [name or ""])
    _info_block(pdf, [(t["date"], day(today)), (t["invoice_number"], number)])
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
    return bytes(pdf.output()), lang  # the VAT id is in the footer


def document_filename(kind: str, ctx: dict[str, Any], lang: str) -> str:
    """``Rechnung-1001.pdf`` for an order's documents, ``Mahnung-2-R-2026-0042.pdf`` for a dunning letter."""
    t = LABELS[lang]
    if kind == "dunning_letter":
        level = _dunning_level(ctx)["level"]
        return f"{t['dunning_file']}-{level}-{ctx['invoice']['number']}.pdf".replace(" ", "_").replace("/", "-")
    number = (ctx.get("document") or {}).get("number") or ctx["order"]["number"]  # the invoice's own number
    name = t["credit_note_file"] if kind == "credit_note" else t[kind]
    return f"{name}-{number}.pdf".replace(" ", "_").replace("/", "-")
