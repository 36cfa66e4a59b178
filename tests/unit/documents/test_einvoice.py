"""Invoices as e-invoices: the embedded Factur-X / ZUGFeRD EN 16931 XML and the EPC payment QR code."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from regelwerk.documents import einvoice
from regelwerk.documents.pdf import render_document
from regelwerk.errors import ActionFailed
from regelwerk.model.order import Order
from regelwerk.model.shop import Shop
from tests import FONTS

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
IBAN = "DE89370400440532013000"


def make_ctx(shop: dict[str, Any] | None = None, **order: Any) -> dict[str, Any]:
    """A German coffee roaster's order: beans at 7 %, a grinder at 19 %, shipping, not paid yet."""
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
    address = {"name": "Anna Müller", "street": "Hauptstraße", "house_number": "5", "zip": "04109"}
    order_model = Order.model_validate(
        {
            "id": "9007199254740993",
            "number": "1001",
            "currency": "EUR",
            "total": "159.80",
            "shipping_total": "4.90",
            "created_at": "2026-11-23T23:15:00+00:00",  # already 24 November in Leipzig
            "customer": {"email": "anna.mueller@example.de", "first_name": "Anna", "last_name": "Müller"},
            "billing_address": address | {"city": "Leipzig", "country": "DE"},
            "shipping_address": address | {"city": "Leipzig", "country": "DE"},
            "line_items": [
                {"sku": "ESP-1000", "name": "Espresso, 1 kg", "quantity": 2, "unit_price": "32.50", "tax_rate": "7"},
                {"sku": "GR-2", "name": "Kaffeemühle „Gusto“", "quantity": 1, "unit_price": "89.90", "tax_rate": "19"},
            ],
        }
        | order
    )
    return {"shop": shop_model.to_context(), "order": order_model.to_context(), "customer": {"language": "de"}}


def invoice(ctx: dict[str, Any]) -> tuple[bytes, etree._Element]:
    pdf, _ = render_document("invoice", ctx, FONTS)
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert name == "factur-x.xml"
    return pdf, etree.fromstring(xml)


def one(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {found}"
    return found[0].text if hasattr(found[0], "text") else str(found[0])


def amounts(root: etree._Element, path: str) -> list[Decimal]:
    return [Decimal(e.text) for e in root.xpath(path, namespaces=NS)]


def page_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\u00a0", " ")  # Babel's no-break spaces


def page_images(pdf: bytes) -> list[Any]:
    return [image.image for image in PdfReader(io.BytesIO(pdf)).pages[0].images]


SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"
SUMS = SETTLEMENT + "/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


# ---------------------------------------------------------------- the embedded XML


def test_invoice_pdf_carries_en16931_xml_that_validates() -> None:
    # Given an unpaid German order with lines at 7 % and 19 % and shipping
    ctx = make_ctx() | {"document": {"number": "RE-2026-00007", "issued_on": "2026-11-25"}}

    # When its invoice is rendered
    pdf, root = invoice(ctx)

    # Then the PDF is a Factur-X PDF whose XML passes the EN 16931 XSD
    xml = etree.tostring(root)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert facturx.get_level(root, "factur-x") == "en16931"
    assert one(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == "urn:cen.eu:en16931:2017"
    assert one(root, "//rsm:ExchangedDocument/ram:ID") == "RE-2026-00007"  # the shop's sequence, not RE-<order number>
    assert one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert one(root, "//rsm:ExchangedDocument/ram:IssueDateTime/*") == "20261125"  # the day it was issued
    # BT-72: not shipped yet, so the date of delivery is the order's day in Leipzig (23:15 UTC is the 24th)
    assert one(root, "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/*") == "20261124"
    # BT-9: payable within the shop's 14 days
    assert one(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/*") == "20261209"
    text = page_text(pdf)
    assert "Rechnungsdatum: 25.11.2026" in text and "Lieferdatum: 24.11.2026" in text
    assert "Zahlbar ohne Abzug bis zum 09.12.2026." in " ".join(text.split())  # justified: spaces widen
    # the seller with its VAT id and address, the buyer with name, address and country
    seller = "//ram:SellerTradeParty"
    assert one(root, seller + "/ram:Name") == "Kaffeerösterei Morgenrot"
    assert one(root, seller + "/ram:SpecifiedTaxRegistration/ram:ID") == "DE123456789"
    assert one(root, seller + "/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == "VA"
    assert one(root, seller + "/ram:PostalTradeAddress/ram:LineOne") == "Karl-Liebknecht-Straße 12"
    assert one(root, seller + "/ram:PostalTradeAddress/ram:PostcodeCode") == "04107"
    assert one(root, seller + "/ram:PostalTradeAddress/ram:CityName") == "Leipzig"
    assert one(root, seller + "/ram:PostalTradeAddress/ram:CountryID") == "DE"
    buyer = "//ram:BuyerTradeParty"
    assert one(root, buyer + "/ram:Name") == "Anna Müller"
    assert one(root, buyer + "/ram:PostalTradeAddress/ram:LineOne") == "Hauptstraße 5"
    assert one(root, buyer + "/ram:PostalTradeAddress/ram:CountryID") == "DE"
    assert one(root, buyer + "/ram:URIUniversalCommunication/ram:URIID") == "anna.mueller@example.de"
    # lines at their rates, category S, with the shop's article numbers
    assert [e.text for e in root.xpath("//ram:SpecifiedTradeProduct/ram:SellerAssignedID", namespaces=NS)] == [
        "ESP-1000",
        "GR-2",
    ]
    line_tax = "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/"
    assert amounts(root, line_tax + "ram:RateApplicablePercent") == [Decimal(7), Decimal(19)]
    assert {e.text for e in root.xpath(line_tax + "ram:CategoryCode", namespaces=NS)} == {"S"}
    # the totals are the order's: 159.80 due, in euros, by SEPA transfer to the shop's IBAN
    assert one(root, SETTLEMENT + "/ram:InvoiceCurrencyCode") == "EUR"
    assert amounts(root, SUMS + "/ram:GrandTotalAmount") == [Decimal("159.80")]
    assert amounts(root, SUMS + "/ram:DuePayableAmount") == [Decimal("159.80")]
    assert one(root, SUMS + "/ram:TaxTotalAmount/@currencyID") == "EUR"
    assert one(root, SETTLEMENT + "/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert one(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == IBAN
    assert one(root, "//ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == "COBADEFFXXX"
    assert "IBAN " + IBAN in one(root, SETTLEMENT + "/ram:SpecifiedTradePaymentTerms/ram:Description")


def test_invoice_xml_figures_for_the_two_rates() -> None:
    # Given 65.00 of beans at 7 %, an 89.90 grinder at 19 % and 4.90 shipping, shared out by net value
    # (60.75 : 75.55, German practice for ancillary costs): 2.18 at 7 %, 2.72 at 19 %
    root = invoice(make_ctx())[1]

    # Then each rate's basis and tax are worked out from its gross, shipping share included
    taxes = SETTLEMENT + "/ram:ApplicableTradeTax/"
    assert amounts(root, taxes + "ram:RateApplicablePercent") == [Decimal(7), Decimal(19)]
    assert amounts(root, taxes + "ram:BasisAmount") == [Decimal("62.79"), Decimal("77.83")]  # 67.18/1.07, 92.62/1.19
    assert amounts(root, taxes + "ram:CalculatedAmount") == [Decimal("4.39"), Decimal("14.79")]
    assert amounts(root, "//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == [Decimal("2.04"), Decimal("2.29")]
    assert [e.text for e in root.xpath("//ram:SpecifiedTradeAllowanceCharge/ram:Reason", namespaces=NS)] == [
        "Versand",
        "Versand",
    ]
    assert amounts(root, SUMS + "/ram:TaxTotalAmount") == [Decimal("19.18")]


def assert_en16931_sums(root: etree._Element, order_total: Decimal) -> None:
    """The arithmetic business rules of EN 16931 (BR-CO-10..16, BR-S-08/09, BR-Z-08/09) on the XML."""
    lines = amounts(root, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    line_rates = amounts(root, "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent")
    charges: dict[Decimal, Decimal] = {}
    charge_total = allowance_total = Decimal(0)
    for ac in root.xpath("//ram:SpecifiedTradeAllowanceCharge", namespaces=NS):
        amount = Decimal(ac.findtext("ram:ActualAmount", namespaces=NS))
        rate = Decimal(ac.findtext("ram:CategoryTradeTax/ram:RateApplicablePercent", namespaces=NS))
        is_charge = ac.findtext("ram:ChargeIndicator/*", namespaces=NS) == "true"
        charges[rate] = charges.get(rate, Decimal(0)) + (amount if is_charge else -amount)
        charge_total += amount if is_charge else 0
        allowance_total += 0 if is_charge else amount
    (line_total,) = amounts(root, SUMS + "/ram:LineTotalAmount")
    (basis_total,) = amounts(root, SUMS + "/ram:TaxBasisTotalAmount")
    (tax_total,) = amounts(root, SUMS + "/ram:TaxTotalAmount")
    (grand_total,) = amounts(root, SUMS + "/ram:GrandTotalAmount")
    assert line_total == sum(lines)  # BR-CO-10
    assert amounts(root, SUMS + "/ram:ChargeTotalAmount") == [charge_total]  # BR-CO-12
    assert amounts(root, SUMS + "/ram:AllowanceTotalAmount") == [allowance_total]  # BR-CO-11
    assert basis_total == line_total + charge_total - allowance_total  # BR-CO-13
    assert grand_total == basis_total + tax_total == order_total  # BR-CO-15, and what the customer pays
    taxes = root.xpath(SETTLEMENT + "/ram:ApplicableTradeTax", namespaces=NS)
    assert tax_total == sum(Decimal(t.findtext("ram:CalculatedAmount", namespaces=NS)) for t in taxes)  # BR-CO-14
    for tax in taxes:
        rate = Decimal(tax.findtext("ram:RateApplicablePercent", namespaces=NS))
        basis = Decimal(tax.findtext("ram:BasisAmount", namespaces=NS))
        amount = Decimal(tax.findtext("ram:CalculatedAmount", namespaces=NS))
        mine = sum((n for n, r in zip(lines, line_rates, strict=True) if r == rate), Decimal(0))
        assert basis == mine + charges.get(rate, Decimal(0))  # BR-S-08 / BR-Z-08
        assert abs(amount - basis * rate / 100) < Decimal("0.02")  # BR-S-09 (the CEN schematron allows 1.00)
        assert tax.findtext("ram:CategoryCode", namespaces=NS) == ("S" if rate else "Z")
        assert amount >= 0 and basis >= 0


@pytest.mark.parametrize(
    "order",
    [
        {},  # shipping shared out over two rates
        {"total": "150.00", "shipping_total": None, "discount_total": "4.90"},  # a discount on the order
        {"total": "170.00", "shipping_total": "4.90", "fee_total": "10.20"},  # other charges (fees)
        {
            "total": "10.02",
            "shipping_total": "0.03",
            "line_items": [
                {"name": "A", "quantity": 3, "unit_price": "0.33", "tax_rate": "19"},
                {"name": "B", "quantity": 7, "unit_price": "0.99", "tax_rate": "7"},
                {"name": "C", "quantity": 1, "unit_price": "2.07", "tax_rate": "19"},
                {"name": "D", "quantity": 1, "unit_price": "0.00", "tax_rate": "0"},
            ],
        },
        {
            "total": "38.40",
            "shipping_total": None,
            "line_items": [
                {"name": "Filter coffee", "quantity": 3, "unit_price": "11.50", "tax_rate": "0"},
                {"name": "Shipping", "quantity": 1, "unit_price": "3.90", "tax_rate": "0"},
            ],
        },
        {
            "total": "149.80",
            "line_items": [
                {"name": "Espresso, 1 kg", "quantity": 2, "unit_price": "32.50", "tax_rate": "7"},
                {"name": "Gutschein", "quantity": 1, "unit_price": "-10.00", "tax_rate": "19"},
                {"name": "Kaffeemühle", "quantity": 1, "unit_price": "89.90", "tax_rate": "19"},
            ],
        },
    ],
    ids=["shipping", "discount", "surcharge", "rounding", "zero-rated", "voucher-line"],
)
def test_invoice_xml_sums_hold(order: dict[str, Any]) -> None:
    # Given orders whose gross amounts do not split evenly into net and tax
    ctx = make_ctx(**order)

    # When the invoice is rendered
    pdf, root = invoice(ctx)

    # Then every EN 16931 sum holds to the cent and the grand total is the order total
    assert_en16931_sums(root, Decimal(ctx["order"]["total"]["amount"]))
    assert min(amounts(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount")) >= 0  # BR-27
    # and the PDF shows the same VAT amounts as the XML
    text = page_text(pdf)
    for tax in root.xpath(SETTLEMENT + "/ram:ApplicableTradeTax/ram:CalculatedAmount", namespaces=NS):
        if Decimal(tax.text):
            assert f"{tax.text.replace('.', ',')} €" in text


def test_invoice_pdf_shows_shipping_and_tax_per_rate() -> None:
    # When the invoice of the two-rate order is rendered
    text = page_text(invoice(make_ctx())[0])

    # Then the customer sees shipping, the total, and per rate (with its share of shipping) the net
    # amount, the VAT and the gross: a table now, as §14(4) UStG asks for the net amount per rate too
    # (the invoice used to print only "USt. 7 % 4,39 €")
    assert "Versand 4,90 €" in text
    assert "Gesamtbetrag 159,80 €" in text
    assert "USt.-Satz Nettobetrag USt. Bruttobetrag" in text
    assert "7 % 62,79 € 4,39 € 67,18 €" in text
    assert "19 % 77,83 € 14,79 € 92,62 €" in text
    assert "Summe 140,62 € 19,18 € 159,80 €" in text


def test_paid_invoice_xml_says_nothing_is_due() -> None:
    # Given the order was paid
    root = invoice(make_ctx(paid_at="2026-11-24T08:00:00+00:00", status="paid"))[1]

    # Then the XML records the payment and nothing left to pay
    assert amounts(root, SUMS + "/ram:TotalPrepaidAmount") == [Decimal("159.80")]
    assert amounts(root, SUMS + "/ram:DuePayableAmount") == [Decimal("0.00")]
    assert one(root, SETTLEMENT + "/ram:SpecifiedTradePaymentTerms/ram:Description") == "Bereits bezahlt am 24.11.2026."


def test_invoice_without_line_items_fails_with_reason() -> None:
    with pytest.raises(ActionFailed, match="at least one line item"):
        render_document("invoice", make_ctx(line_items=[], shipping_total=None), FONTS)


def test_other_documents_stay_plain_pdfs() -> None:
    # Given an unpaid order
    ctx = make_ctx()

    # (a credit note is no longer one of them: it carries its EN 16931 XML, see test_credit_note.py)
    for kind in ("delivery_note", "payment_reminder"):
        # When another document of it is rendered
        pdf, _ = render_document(kind, ctx, FONTS)

        # Then it carries neither XML nor a payment code
        reader = PdfReader(io.BytesIO(pdf))
        assert list(reader.attachments) == [], kind
        assert page_images(pdf) == [], kind


def test_documents_one_after_another_each_embed_the_glyphs_they_use() -> None:
    # Given a render that has parsed the fonts, and a customer whose name needs other glyphs
    first = render_document("invoice", make_ctx(), FONTS)[0]
    polish = make_ctx(billing_address={"name": "Łucja Dvořák", "city": "Łódź", "country": "PL"})

    # When more documents are rendered with the fonts parsed once
    second = render_document("invoice", polish, FONTS)[0]  # German for Poland: no de_PL locale, German it is
    third = render_document("delivery_note", make_ctx(), FONTS)[0]

    # Then each PDF carries the glyphs of its own text
    assert "Łucja Dvořák" in page_text(second) and "Łódź" in page_text(second)
    assert "Anna Müller" in page_text(first) and "Anna Müller" in page_text(third)
    assert "Kaffeemühle „Gusto“" in page_text(third)


# ---------------------------------------------------------------- the EPC QR code


def test_epc_payload_has_the_exact_epc069_12_format() -> None:
    payload = einvoice.epc_qr_payload(
        "Kaffeerösterei Morgenrot", "DE89 3704 0044 0532 0130 00", Decimal("159.8"), bic="COBADEFFXXX", text="RE-1001"
    )

    assert payload.split("\n") == [
        "BCD",  # service tag
        "002",  # version
        "1",  # UTF-8
        "SCT",  # SEPA credit transfer
        "COBADEFFXXX",
        "Kaffeerösterei Morgenrot",
        IBAN,
        "EUR159.80",
        "",  # purpose
        "",  # structured reference
        "RE-1001",  # remittance text
    ]


def test_epc_payload_without_bic_and_text_ends_at_the_amount() -> None:
    payload = einvoice.epc_qr_payload("Shop", IBAN, Decimal("0.01"))

    assert payload == f"BCD\n002\n1\nSCT\n\nShop\n{IBAN}\nEUR0.01"


def test_epc_payload_limits() -> None:
    assert einvoice.epc_qr_payload("x" * 80, IBAN, Decimal("999999999.99")).split("\n")[5] == "x" * 70
    assert einvoice.epc_qr_payload("Shop", IBAN, Decimal(1), text="y" * 200).split("\n")[-1] == "y" * 140
    for amount, currency in ((Decimal(0), "EUR"), (Decimal(-5), "EUR"), (Decimal("1000000000"), "EUR")):
        with pytest.raises(ValueError):
            einvoice.epc_qr_payload("Shop", IBAN, amount, currency=currency)
    with pytest.raises(ValueError, match="euros only"):
        einvoice.epc_qr_payload("Shop", IBAN, Decimal(10), currency="GBP")
    with pytest.raises(ValueError, match="IBAN"):
        einvoice.epc_qr_payload("Shop", "not an iban", Decimal(10))


def test_epc_qr_code_uses_error_correction_m() -> None:
    qr = einvoice.epc_qr(einvoice.epc_qr_payload("Kaffeerösterei Morgenrot", IBAN, Decimal("159.80"), text="RE-1001"))

    assert qr.error == "M"
    assert qr.mode == "byte"
    assert qr.version <= 13


def test_unpaid_euro_invoice_carries_the_payment_code() -> None:
    # Given an unpaid order in euros from a shop with an IBAN
    ctx = make_ctx()

    # When its invoice is rendered
    pdf, _ = invoice(ctx)

    # Then the page shows exactly the QR code of the EPC payload, with its caption
    expected = einvoice.epc_qr_payload(
        "Kaffeerösterei Morgenrot", IBAN, Decimal("159.80"), bic="COBADEFFXXX", text="RE-1001"
    )
    assert einvoice.invoice_qr_payload(ctx, "RE-1001") == expected
    (image,) = page_images(pdf)
    assert image.convert("L").tobytes() == einvoice.epc_qr_image(expected).tobytes()
    assert "Zahlen mit Code" in page_text(pdf)


def test_english_invoice_captions_the_code_in_english() -> None:
    ctx = make_ctx() | {"customer": {"language": "en"}}

    assert "Scan to pay" in page_text(invoice(ctx)[0])


@pytest.mark.parametrize(
    ("shop", "order"),
    [
        ({}, {"paid_at": "2026-11-24T08:00:00+00:00", "status": "paid"}),
        ({"iban": None, "bic": None}, {}),
        ({}, {"currency": "GBP"}),
        (
            {},
            {
                "total": "0.00",
                "shipping_total": "0.00",
                "line_items": [{"name": "Probe", "quantity": 1, "unit_price": "0.00", "tax_rate": "7"}],
            },
        ),
    ],
    ids=["paid", "no-iban", "not-euros", "nothing-to-pay"],
)
def test_no_payment_code_where_it_cannot_pay(shop: dict[str, Any], order: dict[str, Any]) -> None:
    # Given an invoice that is paid, from a shop without IBAN, in pounds or for nothing
    ctx = make_ctx(shop, **order)

    # When it is rendered
    pdf, root = invoice(ctx)

    # Then there is no QR code, but the XML is there all the same, in the order's currency
    assert einvoice.invoice_qr_payload(ctx, "RE-1001") is None
    assert page_images(pdf) == []
    assert "Zahlen mit Code" not in page_text(pdf)
    assert one(root, SETTLEMENT + "/ram:InvoiceCurrencyCode") == ctx["order"]["currency"]
    assert_en16931_sums(root, Decimal(ctx["order"]["total"]["amount"]))


# ---------------------------------------------------------------- lines as the platform charged them


def test_invoice_prints_the_platforms_line_total_beside_a_unit_price_at_full_precision() -> None:
    # Given WooCommerce's line of 2 at 6.45 (3.225 each) and 1.5 kg of cheese at 4.30 a kilo
    ctx = make_ctx(
        total="18.60",
        shipping_total="5.70",
        line_items=[
            {"sku": "W1", "name": "Woo Single", "quantity": 2, "unit_price": "3.225", "total": "6.45", "tax_rate": "7"},
            {"sku": "K", "name": "Bergkäse", "quantity": "1.5", "unit": "kg", "unit_price": "4.30", "tax_rate": "7"},
        ],
    )
    pdf, root = invoice(ctx)
    text = page_text(pdf)
    # Then the line shows 3,225 € a piece and the platform's 6,45 €, not 2 x 3,23 € = 6,46 €
    assert "3,225 €" in text and "6,45 €" in text
    assert "1,5 kg" in text and "6,45 €" in text  # 1.5 x 4.30 = 6.45
    # And the XML bills kilograms for the cheese and pieces for the rest
    units = [e.get("unitCode") for e in root.xpath("//ram:BilledQuantity", namespaces=NS)]
    assert units == ["H87", "KGM"]
    assert_en16931_sums(root, Decimal("18.60"))


def test_shipping_charged_at_its_own_rate_stays_at_that_rate() -> None:
    # Given goods all at 7 % and the platform charging shipping at 7 % too (German practice: it follows the goods)
    ctx = make_ctx(
        total="69.90",
        shipping_total="4.90",
        shipping_tax="0.32",
        shipping_tax_rate="7",
        line_items=[{"name": "Espresso, 1 kg", "quantity": 2, "unit_price": "32.50", "tax_rate": "7"}],
    )
    root = invoice(ctx)[1]
    taxes = SETTLEMENT + "/ram:ApplicableTradeTax/"
    assert amounts(root, taxes + "ram:RateApplicablePercent") == [Decimal(7)]  # no 19 % anywhere
    assert_en16931_sums(root, Decimal("69.90"))


def test_an_order_that_does_not_add_up_gets_no_invoice_with_invented_figures() -> None:
    # Given lines of 154.90 and shipping 4.90 but a total of 120.00 (nothing says why)
    ctx = make_ctx(total="120.00")
    with pytest.raises(Exception, match="does not add up"):
        render_document("invoice", ctx, FONTS)
