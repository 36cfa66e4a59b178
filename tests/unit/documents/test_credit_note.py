"""The credit note of a refund (Rechnungskorrektur): exactly the refunded lines and shipping, taken
back with negative amounts, referencing the invoice it corrects; its XML a type 381 credit note."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import facturx
import pytest
from lxml import etree

from regelwerk.documents import einvoice
from regelwerk.documents.pdf import document_filename, render_document
from regelwerk.errors import ActionFailed
from tests import FONTS
from tests.unit.documents.test_einvoice import NS, SETTLEMENT, SUMS, amounts, assert_en16931_sums, make_ctx, one
from tests.unit.documents.test_invoice_content import LEGAL, PARIS, text_of

EUR = "EUR"
CORRECTS = {"number": "RE-2026-00042", "issued_on": "2026-11-20"}


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": EUR}


def refund(**changes: Any) -> dict[str, Any]:
    """The customer sent the two bags of espresso back; the shop refunded them and the shipping."""
    return {
        "id": "r1",
        "created_at": "2026-11-27T10:00:00+00:00",
        "amount": money("69.90"),
        "reason": "Retoure",
        "shipping": money("4.90"),
        "lines": [
            {"sku": "ESP-1000", "name": "Espresso, 1 kg", "quantity": "2", "total": money("65.00"), "tax_rate": "7"}
        ],
    } | changes


def credit_ctx(the_refund: dict[str, Any], corrects: dict[str, str] | None = CORRECTS, **order: Any) -> dict:
    document = {"number": "GS-2026-00001", "issued_on": "2026-11-28", "corrects": corrects}
    return make_ctx(LEGAL, **order) | {"refund": the_refund, "document": document}


def credit_note(ctx: dict[str, Any]) -> tuple[bytes, etree._Element]:
    pdf, _ = render_document("credit_note", ctx, FONTS)
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    return pdf, etree.fromstring(xml)


def test_credit_note_takes_back_the_refunded_lines_and_shipping() -> None:
    # Given a refund of the espresso (7 %) and the shipping of an order that also had a grinder (19 %)
    pdf, root = credit_note(credit_ctx(refund()))
    text = text_of(pdf)

    # Then the PDF is a Rechnungskorrektur naming the invoice it corrects, its number and date
    assert "Rechnungskorrektur" in text
    assert "Wir korrigieren unsere Rechnung RE-2026-00042 vom 20.11.2026 wie folgt. Grund: Retoure" in text
    assert "Nummer: GS-2026-00001" in text and "Zur Rechnung: RE-2026-00042" in text
    # it lists exactly the refunded line and the shipping, negative; the grinder is not on it
    assert "1 ESP-1000 Espresso, 1 kg 2 -32,50 € 7 % -65,00 €" in text
    assert "Kaffeemühle" not in text
    assert "Versand -4,90 €" in text
    # the VAT per rate negative (shipping shared as on the invoice: 2.18 at 7 %, 2.72 at 19 %), total -69.90
    assert "7 % -62,79 € -4,39 € -67,18 €" in text
    assert "19 % -2,29 € -0,43 € -2,72 €" in text
    assert "Gutschriftsbetrag -69,90 €" in text
    assert "Der Betrag von 69,90 € wurde am 27.11.2026 erstattet." in text
    # And the XML is a credit note (381) with positive amounts that reference the corrected invoice
    assert one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert one(root, "//rsm:ExchangedDocument/ram:ID") == "GS-2026-00001"
    reference = SETTLEMENT + "/ram:InvoiceReferencedDocument"
    assert one(root, reference + "/ram:IssuerAssignedID") == "RE-2026-00042"  # BT-25
    assert one(root, reference + "/ram:FormattedIssueDateTime/*") == "20261120"  # BT-26
    assert amounts(root, SUMS + "/ram:GrandTotalAmount") == [Decimal("69.90")]
    assert amounts(root, SUMS + "/ram:TaxTotalAmount") == [Decimal("4.82")]
    assert amounts(root, SUMS + "/ram:DuePayableAmount") == [Decimal("0.00")]  # refunded already
    assert_en16931_sums(root, Decimal("69.90"))
    # no payment to the shop's account is asked for
    assert root.xpath("//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS) == []


def test_shipping_refunded_at_the_rate_it_was_charged() -> None:
    ctx = credit_ctx(refund(), shipping_tax_rate="7", shipping_tax="0.32")

    root = credit_note(ctx)[1]

    assert amounts(root, SETTLEMENT + "/ram:ApplicableTradeTax/ram:RateApplicablePercent") == [Decimal(7)]
    assert_en16931_sums(root, Decimal("69.90"))


def test_a_refund_of_an_amount_alone_is_shared_over_the_orders_rates() -> None:
    # Given 20.00 refunded as a goodwill gesture, tied to no line
    ctx = credit_ctx(refund(lines=[], shipping=None, amount=money("20.00"), reason=None))

    pdf, root = credit_note(ctx)
    text = text_of(pdf)

    # Then it reduces both rates of the order by their share of its net value (60.75 : 75.55), as §17 UStG
    # corrects the VAT of the supply it reduces: 8.91 gross at 7 %, 11.09 at 19 %
    assert "1 Erstattung 1 -8,91 € 7 % -8,91 €" in text
    assert "2 Erstattung 1 -11,09 € 19 % -11,09 €" in text
    assert "Gutschriftsbetrag -20,00 €" in text
    assert amounts(root, "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent") == [
        Decimal(7),
        Decimal(19),
    ]
    assert_en16931_sums(root, Decimal("20.00"))


def test_a_refund_beyond_its_lines_credits_the_rest_as_a_refund_line() -> None:
    # Given the espresso returned and 5.00 more refunded for the trouble
    the_refund = refund(shipping=None, amount=money("70.00"))

    figures = einvoice.credit_note_breakdown(the_refund, make_ctx()["order"], label="Erstattung")

    assert [(line.name, line.gross) for line in figures.lines] == [
        ("Espresso, 1 kg", Decimal("65.00")),
        ("Erstattung", Decimal("2.23")),
        ("Erstattung", Decimal("2.77")),
    ]
    assert figures.grand_total == figures.tax_basis_total + figures.tax_total == Decimal("70.00")


def test_a_line_refunded_by_amount_with_no_pieces_is_one_piece() -> None:
    # Given a platform's refund of 10.00 off the grinder, with no pieces sent back
    line = {"sku": "GR-2", "name": "Kaffeemühle „Gusto“", "quantity": "0", "total": money("10.00"), "tax_rate": "19"}
    ctx = credit_ctx(refund(lines=[line], shipping=None, amount=money("10.00")))

    pdf, root = credit_note(ctx)

    assert "1 GR-2 Kaffeemühle „Gusto“ 1 -10,00 € 19 % -10,00 €" in text_of(pdf)
    assert_en16931_sums(root, Decimal("10.00"))


def test_lines_worth_more_than_the_refund_make_no_credit_note() -> None:
    ctx = credit_ctx(refund(amount=money("30.00")))

    with pytest.raises(ActionFailed, match="refund does not add up"):
        render_document("credit_note", ctx, FONTS)


def test_a_credit_note_needs_a_refund() -> None:
    ctx = make_ctx()

    with pytest.raises(ActionFailed, match="refund"):
        render_document("credit_note", ctx, FONTS)


def test_a_preview_shows_the_orders_latest_refund() -> None:
    # Given an order refunded twice, and no refund in the context (the admin API's preview)
    line = {"sku": "ESP-1000", "name": "Espresso, 1 kg", "quantity": "2", "total": "65.00", "tax_rate": "7"}
    first = {"id": "r1", "created_at": "2026-11-27T10:00:00Z", "amount": "69.90", "shipping": "4.90", "lines": [line]}
    ctx = make_ctx(refunds=[first, {"id": "r2", "created_at": "2026-11-28T09:00:00Z", "amount": "5.00"}])

    pdf, root = credit_note(ctx)

    # Then the preview is the credit note of the latest, numbered after the order as previews are
    assert "Nummer: GS-1001" in text_of(pdf) and "Gutschriftsbetrag -5,00 €" in text_of(pdf)
    assert amounts(root, SUMS + "/ram:GrandTotalAmount") == [Decimal("5.00")]


def test_without_a_numbered_invoice_the_credit_note_names_the_order() -> None:
    pdf, root = credit_note(credit_ctx(refund(), corrects=None))

    assert "Wir korrigieren unsere Rechnung zur Bestellung 1001 wie folgt." in text_of(pdf)
    assert root.xpath(SETTLEMENT + "/ram:InvoiceReferencedDocument", namespaces=NS) == []


def test_reverse_charge_credit_note_is_at_0_percent_in_english() -> None:
    # Given the French company's refund of a service: its invoice was a reverse-charge one
    ctx = credit_ctx(refund(), billing_address=PARIS, shipping_address=PARIS)
    ctx["customer"] = {"language": "en", "vat_id": "FR40303265045"}
    ctx["shop"] = ctx["shop"] | {"supplies": "services"}

    pdf, root = credit_note(ctx)
    text = text_of(pdf)

    assert "Credit note" in text and "This credit note corrects our invoice RE-2026-00042 of 20 Nov 2026" in text
    assert "Reverse charge: VAT to be accounted for by the recipient" in text
    assert "Total credited -69,90 €" in text  # a customer in France: French number format
    assert "0 % -69,90 € 0,00 € -69,90 €" in text  # no VAT taken back, and no "-0,00 €"
    assert {e.text for e in root.xpath("//ram:CategoryCode", namespaces=NS)} == {"AE"}
    assert amounts(root, SUMS + "/ram:TaxTotalAmount") == [Decimal("0.00")]


def test_credit_note_file_is_named_by_its_number() -> None:
    ctx = credit_ctx(refund())

    assert document_filename("credit_note", ctx, "de") == "Gutschrift-GS-2026-00001.pdf"
    assert document_filename("credit_note", ctx, "en") == "Credit_note-GS-2026-00001.pdf"
