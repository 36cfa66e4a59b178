"""The dunning letter: payment reminder, first dunning and final notice for an overdue invoice, as PDF."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pypdf import PdfReader

from regelwerk.actions import documents
from regelwerk.documents import einvoice
from regelwerk.documents.pdf import dunning_figures, render_document
from regelwerk.engine.context import invoice_context
from regelwerk.errors import ActionFailed
from regelwerk.model.customer import Customer
from regelwerk.model.invoice import Invoice
from regelwerk.model.messages import ActionMessage
from regelwerk.model.order import Order
from regelwerk.model.shop import Shop
from tests import FONTS


def create_document(msg: dict[str, Any], fonts: Path) -> Any:
    """The pdf action on a message with just what a document needs (the rest as the run writer fills it)."""
    base = {"run_id": "evt_dun", "event_type": "invoice.overdue", "rule_id": "dunning", "rule_version": 1}
    return documents.create_document(ActionMessage.from_message(base | msg), fonts)


IBAN = "DE89370400440532013000"
LEVELS = {
    1: {"level": 1, "name": "payment_reminder", "fee": "0", "after_days": 7},
    2: {"level": 2, "name": "first_dunning", "fee": "5.00", "after_days": 14},
    3: {"level": 3, "name": "final_notice", "fee": "10.00", "after_days": 28},
}


def make_ctx(
    level: int = 2,
    *,
    shop: dict[str, Any] | None = None,
    invoice: dict[str, Any] | None = None,
    dunning: dict[str, Any] | None = None,
    language: str = "de",
    with_order: bool = True,
) -> dict[str, Any]:
    """Invoice R-2026-0042 of a Leipzig coffee roaster: 149.90 EUR, due 1 December, nothing paid;
    the dunning run saw it on 15 December (Berlin time)."""
    shop_model = Shop.model_validate(
        {
            "id": "morgenrot",
            "name": "Kaffeerösterei Morgenrot",
            "address_lines": ["Kaffeerösterei Morgenrot GmbH", "Karl-Liebknecht-Straße 12, 04107 Leipzig"],
            "tax_id": "DE123456789",
            "iban": IBAN,
            "bic": "COBADEFFXXX",
        }
        | (shop or {})
    )
    invoice_model = Invoice.model_validate(
        {
            "id": "inv_42",
            "number": "R-2026-0042",
            "order_id": "9007199254740993",
            "customer_id": "cus_1",
            "currency": "EUR",
            "amount": "149.90",
            "status": "open",
            "issued_at": "2026-11-17T09:00:00+00:00",
            "due_at": "2026-12-01T09:00:00+00:00",
            "dunning_level": level,
        }
        | (invoice or {})
    )
    address = {"name": "Anna Müller", "street": "Hauptstraße", "house_number": "5", "zip": "04109"}
    order = Order.model_validate(
        {
            "id": "9007199254740993",
            "number": "1001",
            "currency": "EUR",
            "total": "149.90",
            "created_at": "2026-11-17T08:55:00+00:00",
            "billing_address": address | {"city": "Leipzig", "country": "DE"},
            "line_items": [{"name": "Espresso, 1 kg", "quantity": 1, "unit_price": "149.90", "tax_rate": "7"}],
        }
    )
    customer = Customer(id="cus_1", email="anna@example.de", first_name="Anna", last_name="Müller", language=language)
    return {
        "shop": shop_model.to_context(),
        "invoice": invoice_context(invoice_model),
        "dunning": LEVELS[level] | (dunning or {}),
        "order": order.to_context() if with_order else None,
        "customer": customer.to_context(),
        # 23:30 UTC is already 15 December in Leipzig: 14 days after the due date
        "event": {"id": "evt_dun", "type": "invoice.overdue", "received_at": "2026-12-14T23:30:00+00:00"},
    }


def page_text(pdf: bytes) -> str:
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    return " ".join(text.replace("\u00a0", " ").split())  # Babel's no-break spaces; lines wrap anywhere


def page_images(pdf: bytes) -> list[Any]:
    return [image.image for image in PdfReader(io.BytesIO(pdf)).pages[0].images]


def letter(ctx: dict[str, Any]) -> tuple[str, list[Any], str]:
    pdf, lang = render_document("dunning_letter", ctx, FONTS)
    assert pdf.startswith(b"%PDF-")
    return page_text(pdf), page_images(pdf), lang


def qr_of(total: str, number: str = "R-2026-0042") -> str:
    return einvoice.epc_qr_payload("Kaffeerösterei Morgenrot", IBAN, Decimal(total), bic="COBADEFFXXX", text=number)


# ---------------------------------------------------------------- the three letters, in German


def test_payment_reminder_is_friendly_and_asks_for_the_open_amount_only() -> None:
    # Given an invoice two weeks overdue and a first level without a fee
    ctx = make_ctx(1)

    # When its dunning letter is rendered
    text, images, lang = letter(ctx)

    # Then it is a friendly German reminder to Anna, dated the day the event came in (Leipzig time)
    assert lang == "de"
    assert "Zahlungserinnerung" in text
    assert "Mahnung" not in text
    # the letter is laid out as the invoice is (DIN 5008 form B): the recipient in the envelope's window, no
    # country line for a German address (it printed "DE"), date and invoice number in the information block
    assert "Anna Müller Hauptstraße 5 04109 Leipzig Datum: 15.12.2026 Rechnungsnummer: R-2026-0042" in text
    assert "Kaffeerösterei Morgenrot GmbH · Karl-Liebknecht-Straße 12, 04107 Leipzig" in text
    assert "Seite 1 von 1" in text and "USt-IdNr. DE123456789 · IBAN" in text  # the seller's details in the footer
    assert "Guten Tag Anna Müller," in text
    assert "vielleicht haben Sie unsere Rechnung R-2026-0042 vom 17.11.2026 übersehen" in text
    assert "Sie war am 01.12.2026 fällig" in text
    assert "den offenen Betrag von 149,90 € in den nächsten Tagen" in text
    # with the figures: 14 days overdue, no fee line, the open amount is what is due now
    assert "Rechnungsnummer R-2026-0042" in text
    assert "Rechnungsdatum 17.11.2026" in text
    assert "Fällig am 01.12.2026" in text
    assert "Tage überfällig 14" in text
    assert "Rechnungsbetrag 149,90 €" in text
    assert "Bereits bezahlt 0,00 €" in text
    assert "Offener Betrag 149,90 €" in text
    assert "Mahngebühr" not in text
    assert "Jetzt zu zahlen 149,90 €" in text
    # and how to pay: bank details, the invoice number as reference, a GiroCode for 149.90
    assert f"Kaffeerösterei Morgenrot IBAN {IBAN} · BIC COBADEFFXXX" in text
    assert "Verwendungszweck: R-2026-0042" in text
    assert len(images) == 1
    assert images[0].convert("L").tobytes() == einvoice.epc_qr_image(qr_of("149.90")).tobytes()
    assert "Sollten Sie die Zahlung bereits veranlasst haben" in text
    assert "Mit freundlichen Grüßen Kaffeerösterei Morgenrot" in text


def test_first_dunning_adds_its_fee_to_the_total_now_due() -> None:
    # Given the second level with a fee of 5.00
    ctx = make_ctx(2)

    # When its letter is rendered
    text, images, _ = letter(ctx)

    # Then it is the first dunning, the fee is named and added exactly: 149.90 + 5.00 = 154.90
    assert "1. Mahnung" in text
    assert "Zahlungserinnerung" not in text
    assert "leider ist unsere Rechnung R-2026-0042 vom 17.11.2026, fällig am 01.12.2026, noch immer nicht" in text
    assert "den Gesamtbetrag von 154,90 € umgehend" in text
    assert "Darin enthalten ist eine Mahngebühr von 5,00 €." in text
    assert "Offener Betrag 149,90 €" in text
    assert "Mahngebühr 5,00 €" in text
    assert "Jetzt zu zahlen 154,90 €" in text
    # and the GiroCode pays the total now due, not the invoice amount
    assert images[0].convert("L").tobytes() == einvoice.epc_qr_image(qr_of("154.90")).tobytes()
    assert images[0].convert("L").tobytes() != einvoice.epc_qr_image(qr_of("149.90")).tobytes()


def test_final_notice_sets_a_seven_day_deadline_and_announces_further_steps() -> None:
    # Given the third level with a fee of 10.00
    ctx = make_ctx(3)

    # When its letter is rendered
    text, _, _ = letter(ctx)

    # Then it is the final notice with a deadline a week after the letter's date
    assert "Letzte Mahnung" in text
    assert "trotz unserer bisherigen Erinnerungen ist unsere Rechnung R-2026-0042" in text
    assert "den Gesamtbetrag von 159,90 € bis spätestens 22.12.2026" in text
    assert "behalten wir uns weitere Schritte vor" in text
    assert "Mahngebühr 10,00 €" in text
    assert "Jetzt zu zahlen 159,90 €" in text


@pytest.mark.parametrize(
    ("level", "name", "title"),
    [
        (1, "erinnerung", "Zahlungserinnerung"),
        (2, "mahnung", "1. Mahnung"),
        (4, "inkasso_warnung", "Letzte Mahnung"),
        (2, "final_notice", "Letzte Mahnung"),  # a shop with two levels: its second is the last
    ],
)
def test_the_title_follows_a_known_name_else_the_level(level: int, name: str, title: str) -> None:
    ctx = make_ctx(2, dunning={"level": level, "name": name})

    text, _, _ = letter(ctx)

    assert f"Datum: 15.12.2026 Rechnungsnummer: R-2026-0042 {title} " in text  # the information block, then the title


# ---------------------------------------------------------------- the figures


def test_a_partial_payment_is_shown_and_only_the_rest_is_due() -> None:
    # Given 100.00 of 149.90 already paid
    ctx = make_ctx(2, invoice={"amount_paid": "100.00"})

    # When the first dunning is rendered
    text, images, _ = letter(ctx)

    # Then the letter asks for the rest plus the fee: 49.90 + 5.00 = 54.90
    assert "Rechnungsbetrag 149,90 €" in text
    assert "Bereits bezahlt 100,00 €" in text
    assert "Offener Betrag 49,90 €" in text
    assert "Jetzt zu zahlen 54,90 €" in text
    assert images[0].convert("L").tobytes() == einvoice.epc_qr_image(qr_of("54.90")).tobytes()


def test_figures_are_decimals_quantized_to_the_currency() -> None:
    # Given 0.30 invoiced, 0.10 paid and a fee written "0.1"
    ctx = make_ctx(2, invoice={"amount": "0.30", "amount_paid": "0.10"}, dunning={"fee": "0.1"})

    # When the letter's figures are worked out
    figures = dunning_figures(ctx["invoice"], ctx["dunning"])

    # Then 0.20 + 0.10 is exactly 0.30 (0.30000000000000004 in floating point), in cents
    assert (str(figures.open), str(figures.fee), str(figures.total)) == ("0.20", "0.10", "0.30")
    # yen have no minor unit, dinars three
    yen = make_ctx(2, invoice={"currency": "JPY", "amount": "15000"}, dunning={"fee": "500"})
    assert str(dunning_figures(yen["invoice"], yen["dunning"]).total) == "15500"
    dinar = make_ctx(2, invoice={"currency": "KWD", "amount": "12.345"}, dunning={"fee": "1.5"})
    assert str(dunning_figures(dinar["invoice"], dinar["dunning"]).total) == "13.845"
    # and a float never gets in
    with pytest.raises(ValueError, match="floating point"):
        dunning_figures(ctx["invoice"], {"fee": 5.0})


def test_nothing_to_remind_of_fails_the_action() -> None:
    with pytest.raises(ActionFailed, match="nothing open"):
        render_document("dunning_letter", make_ctx(1, invoice={"amount_paid": "149.90"}), FONTS)
    with pytest.raises(ActionFailed, match="is paid"):
        render_document("dunning_letter", make_ctx(1, invoice={"status": "paid"}), FONTS)
    with pytest.raises(ActionFailed, match="needs an invoice"):
        render_document("dunning_letter", make_ctx(1) | {"invoice": None}, FONTS)
    with pytest.raises(ActionFailed, match="negative"):
        render_document("dunning_letter", make_ctx(2, dunning={"fee": "-5"}), FONTS)


# ---------------------------------------------------------------- language, currency, payment


def test_english_letter_for_an_english_customer() -> None:
    # Given an English-speaking customer and the first dunning
    ctx = make_ctx(2, language="en")

    # When the letter is rendered
    text, _, lang = letter(ctx)

    # Then everything is in English, with money as English is written in Germany (en_DE), like her invoice
    assert lang == "en"
    assert "First reminder notice" in text
    assert "Dear Anna Müller," in text
    assert "Unfortunately, our invoice R-2026-0042" in text
    assert "without delay. This includes a dunning fee of 5,00 €." in text
    assert "Days overdue 14" in text
    assert "Dunning fee 5,00 €" in text
    assert "Total now due 154,90 €" in text
    assert "Reference: R-2026-0042" in text
    assert "Kind regards" in text
    assert "Mahnung" not in text
    final, _, _ = letter(make_ctx(3, language="en"))
    assert "Final notice" in final
    assert "further steps may follow" in final
    reminder, _, _ = letter(make_ctx(1, language="en"))
    assert "Payment reminder" in reminder
    assert "has been overlooked" in reminder


def test_no_giro_code_for_pounds_but_the_bank_details_remain() -> None:
    ctx = make_ctx(2, invoice={"currency": "GBP"})

    text, images, _ = letter(ctx)

    assert images == []
    assert "Jetzt zu zahlen 154,90 £" in text
    assert f"IBAN {IBAN}" in text


def test_no_giro_code_and_no_bank_details_without_an_iban() -> None:
    ctx = make_ctx(2, shop={"iban": None, "bic": None})

    text, images, _ = letter(ctx)

    assert images == []
    assert "IBAN" not in text
    assert "Jetzt zu zahlen 154,90 €" in text


def test_the_payment_link_is_printed_and_clickable() -> None:
    url = "https://pay.example.de/i/R-2026-0042"
    ctx = make_ctx(1, invoice={"payment_url": url})

    pdf, _ = render_document("dunning_letter", ctx, FONTS)

    assert f"Oder bezahlen Sie online: {url}" in page_text(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert [a.get_object()["/A"]["/URI"] for a in reader.pages[0]["/Annots"]] == [url]
    assert len(reader.pages) == 1  # with everything on it, the letter still fits one page


def test_without_the_dunning_step_the_invoice_level_is_used() -> None:
    # Given an event that carries the invoice (at level 3) but not its dunning step
    ctx = make_ctx(3) | {"dunning": None}

    text, _, _ = letter(ctx)

    # Then it is the final notice, without a fee nobody configured
    assert "Letzte Mahnung" in text
    assert "Jetzt zu zahlen 149,90 €" in text
    with pytest.raises(ActionFailed, match="no dunning level"):
        render_document("dunning_letter", make_ctx(1, invoice={"dunning_level": 0}) | {"dunning": None}, FONTS)


def test_without_an_order_the_letter_goes_to_the_customer_by_name() -> None:
    ctx = make_ctx(1, with_order=False)

    text, _, _ = letter(ctx)

    assert "Leipzig Anna Müller Datum: 15.12.2026" in text  # return address, recipient, the information block
    assert "Hauptstraße" not in text


def test_the_letter_is_dated_by_its_event_not_by_the_clock() -> None:
    # Given the same final notice, once from an event that came in on 20 December (Berlin time)
    ctx = make_ctx(3)
    ctx["event"] = ctx["event"] | {"received_at": "2026-12-20T08:00:00+01:00"}

    text, _, _ = letter(ctx)

    # Then the date, the days overdue and the deadline all count from that day, whenever it is rendered
    assert "Datum: 20.12.2026" in text
    assert "Tage überfällig 19" in text
    assert "bis spätestens 27.12.2026" in text


# ---------------------------------------------------------------- stored in S3


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:
        self.objects[Key] = Body

    def generate_presigned_url(self, _: str, Params: dict[str, str], ExpiresIn: int) -> str:
        return f"https://{Params['Bucket']}.s3.example/{Params['Key']}"


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeS3, list[tuple[str, str | None, str]]]:
    s3, recorded = FakeS3(), []
    monkeypatch.setattr(documents, "client", lambda _service: s3)
    monkeypatch.setattr(
        documents, "settings", lambda: SimpleNamespace(documents_bucket="docs", aws_region="eu-central-1")
    )
    monkeypatch.setattr(documents, "record_on_order", lambda *args: recorded.append(args))
    return s3, recorded


@pytest.mark.parametrize(
    ("language", "level", "filename"),
    [
        ("de", 1, "Mahnung-1-R-2026-0042.pdf"),
        ("de", 3, "Mahnung-3-R-2026-0042.pdf"),
        ("en", 2, "Reminder-2-R-2026-0042.pdf"),
    ],
)
def test_create_document_names_the_letter_by_level_and_invoice_and_notes_it_on_the_order(
    stored: tuple[FakeS3, list], language: str, level: int, filename: str
) -> None:
    s3, recorded = stored
    msg = {
        "shop_id": "morgenrot",
        "action_id": "evt_dun:0",
        "action": {"type": "pdf", "document": "dunning_letter"},
        "context": make_ctx(level, language=language),
    }

    outcome = create_document(msg, FONTS)

    assert outcome.output["filename"] == filename
    assert outcome.output["document"] == "dunning_letter"
    key = outcome.output["key"]
    assert key.startswith("shops/morgenrot/documents/dunning_letter/") and key.endswith("/" + filename)
    assert s3.objects[key].startswith(b"%PDF-")
    assert recorded == [("morgenrot", "9007199254740993", key)]


def test_create_document_notes_the_letter_on_the_invoice_order_only(stored: tuple[FakeS3, list]) -> None:
    _, recorded = stored
    msg = {"shop_id": "morgenrot", "action_id": "a", "action": {"type": "pdf", "document": "dunning_letter"}}
    # an invoice without an order: nothing to note it on; the number made fit for a file name
    no_order = make_ctx(2, invoice={"order_id": None, "number": "R 2026/43"}, with_order=False)
    # an invoice whose order was not loaded: noted on the invoice's order id (record_on_order skips a missing order)
    unloaded = make_ctx(2, with_order=False)

    first = create_document(msg | {"context": no_order}, FONTS)
    second = create_document(msg | {"context": unloaded}, FONTS)

    assert first.output["filename"] == "Mahnung-2-R_2026-43.pdf"
    assert recorded == [
        ("morgenrot", None, first.output["key"]),
        ("morgenrot", "9007199254740993", second.output["key"]),
    ]
