"""What the law asks of an invoice (§14(4) UStG, Art. 226 VAT directive), where a window envelope
wants the address, and the VAT cases a shop owner meets: the PDF a person reads and its XML."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from regelwerk.documents import einvoice
from regelwerk.documents.pdf import render_document
from regelwerk.model.shop import Shop
from tests import FONTS
from tests.unit.documents.test_einvoice import NS, SETTLEMENT, SUMS, amounts, invoice, make_ctx, one

LEGAL = {
    "legal": {
        "company": "Kaffeerösterei Morgenrot GmbH",
        "registry_court": "Amtsgericht Leipzig",
        "registry_number": "HRB 12345",
        "managing_directors": ["Clara Morgenrot", "Jonas Brandt"],
        "tax_number": "231/456/78901",
    }
}
NUMBERED = {"document": {"number": "RE-2026-00042", "issued_on": "2026-11-28"}}
PARIS = {
    "company": "Café Lumière SARL",
    "name": "Marie Dubois",
    "street": "Rue de Rivoli",
    "house_number": "10",
    "zip": "75001",
    "city": "Paris",
    "country": "FR",
}
ZURICH = {"name": "Heidi Keller", "street": "Bahnhofstrasse", "house_number": "1", "zip": "8001", "city": "Zürich"}
MM = 72 / 25.4  # PDF points per millimetre


def text_of(pdf: bytes) -> str:
    """All pages' text, Babel's no-break spaces as spaces."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\u00a0", " ")


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text().replace("\u00a0", " ") for page in PdfReader(io.BytesIO(pdf)).pages]


def positions(pdf: bytes, page: int = 0) -> list[tuple[str, float, float]]:
    """Each piece of text of a page with where it starts, in mm from the sheet's left and top edges."""
    reader = PdfReader(io.BytesIO(pdf))
    height = float(reader.pages[page].mediabox.height)
    found: list[tuple[str, float, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x / MM, (height - y) / MM))

    reader.pages[page].extract_text(visitor_text=visit)
    return found


def where(pdf: bytes, text: str) -> tuple[float, float]:
    """Where a text first shows on the first page (the return address shows again in the footer)."""
    return next((x, y) for t, x, y in positions(pdf) if t == text)


# ---------------------------------------------------------------- §14(4) UStG, every item


def test_invoice_states_everything_section_14_asks() -> None:
    # Given a GmbH with its registry details and a business customer with a German VAT id
    ctx = make_ctx(LEGAL) | NUMBERED | {"customer": {"language": "de", "vat_id": "DE 987654321"}}
    ctx["order"]["shipped_at"] = "2026-11-26T09:00:00+00:00"

    # When its invoice is rendered
    pdf, root = invoice(ctx)
    text = text_of(pdf)

    # Then the PDF states each item of §14(4) UStG
    # 1. the seller's full name and address, and the buyer's
    assert "Kaffeerösterei Morgenrot GmbH · Karl-Liebknecht-Straße 12, 04107 Leipzig" in text
    assert "Anna Müller\nHauptstraße 5\n04109 Leipzig" in text
    # 2. the seller's VAT id and tax number (and the registry details a GmbH must give)
    assert "USt-IdNr. DE123456789 · Steuernummer 231/456/78901" in text
    assert "Registergericht: Amtsgericht Leipzig HRB 12345 · Geschäftsführung: Clara Morgenrot, Jonas Brandt" in text
    # the business customer's VAT id, beside the seller's
    assert "Ihre USt-IdNr.: DE987654321" in text and "Unsere USt-IdNr.: DE123456789" in text
    # 3. and 4. the invoice's date and its number
    assert "Rechnungsdatum: 28.11.2026" in text and "Rechnungsnummer: RE-2026-00042" in text
    # 5. quantity and description of each item
    assert "1 ESP-1000 Espresso, 1 kg 2 32,50 € 7 % 65,00 €" in text
    assert "2 GR-2 Kaffeemühle „Gusto“ 1 89,90 € 19 % 89,90 €" in text
    # 6. the date of delivery: the shipping day
    assert "Lieferdatum: 26.11.2026" in text
    # 7. and 8. the net amount per rate, the rate, the VAT per rate; and the total
    assert "7 % 62,79 € 4,39 € 67,18 €" in text and "19 % 77,83 € 14,79 € 92,62 €" in text
    assert "Gesamtbetrag 159,80 €" in text
    # and the payment terms
    assert "Zahlbar ohne Abzug bis zum 12.12.2026." in " ".join(text.split())
    # And the XML names the same parties: the seller by its registered name with both tax ids, the buyer's VAT id
    seller = "//ram:SellerTradeParty"
    assert one(root, seller + "/ram:Name") == "Kaffeerösterei Morgenrot GmbH"
    registrations = root.xpath(seller + "/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)
    ids = {e.get("schemeID"): e.text for e in registrations}
    assert ids == {"VA": "DE123456789", "FC": "231/456/78901"}  # BT-31, BT-32
    assert one(root, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == "DE987654321"  # BT-48
    assert one(root, "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/*") == "20261126"


def test_english_invoice_says_it_in_english() -> None:
    ctx = make_ctx(LEGAL) | NUMBERED | {"customer": {"language": "en"}}

    text = text_of(invoice(ctx)[0])

    assert "Registry court: Amtsgericht Leipzig HRB 12345 · Managing directors: Clara Morgenrot, Jonas Brandt" in text
    assert "VAT rate Net amount VAT Gross amount" in text
    assert "Invoice number: RE-2026-00042" in text and "Date of delivery: 24 Nov 2026" in text
    assert "Page 1 of 1" in text


def test_a_shop_with_only_a_tax_number_states_that() -> None:
    # Given a shop that gives its Steuernummer as tax_id and no VAT id
    ctx = make_ctx({"tax_id": "231/456/78901"}) | NUMBERED

    pdf, root = invoice(ctx)

    assert "Steuernummer: 231/456/78901" in text_of(pdf)
    assert one(root, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/@schemeID") == "FC"


# ---------------------------------------------------------------- the layout


def test_the_recipient_shows_in_the_window_of_a_din_5008_envelope() -> None:
    # Given the invoice of a customer abroad (in the EU, no VAT id: standard VAT)
    ctx = make_ctx(LEGAL, billing_address=PARIS | {"company": None}) | NUMBERED

    pdf = invoice(ctx)[0]

    # Then name, street and city sit in the address field of form B: 20 mm from the left, 45 mm from
    # the top, 85 x 45 mm, below the return address (in small type, also inside the field)
    for line in ("Kaffeerösterei Morgenrot GmbH · Karl-Liebknecht-Straße 12 · 04107 Leipzig", "Marie Dubois"):
        x, y = where(pdf, line)
        assert 20 <= x <= 20 + 85 and 45 <= y <= 45 + 45, (line, x, y)
    assert where(pdf, "Marie Dubois")[1] > where(pdf, "Rue de Rivoli 10")[1] - 10
    _, last = where(pdf, "FRANKREICH")  # abroad, the country in capitals, as the last line
    assert last <= 45 + 45
    # And number and dates stand in the information block to its right, the title below both
    x, _ = where(pdf, "RE-2026-00042")
    assert x > 20 + 85
    assert where(pdf, "Rechnung")[1] > 45 + 45


def test_a_long_return_address_stays_one_line_in_the_window() -> None:
    # Given a company with a long legal name and more address lines than a return address takes
    long_name = "Kaffeerösterei Morgenrot und Partner Handelsgesellschaft mit beschränkter Haftung & Co. KG"
    shop = {
        "legal": {"company": long_name},
        "address_lines": ["Karl-Liebknecht-Straße 12, 04107 Leipzig", "Telefon 0341 1234567", "info@morgenrot.example"],
    }

    pdf = invoice(make_ctx(shop) | NUMBERED)[0]

    # Then the return address is name, street and city (no telephone, no e-mail), in type small enough
    # to end inside the 85 mm field, before the information block
    [(text, x, size)] = [
        (t, x, size) for t, x, _, size in sized_positions(pdf) if t.startswith("Kaffeerösterei Morgenrot und")
    ]
    assert text.endswith("· Karl-Liebknecht-Straße 12 · 04107 Leipzig") or text.endswith("…")
    assert "Telefon" not in text and "@" not in text
    assert x + width_mm(text, size) <= 20 + 85


def sized_positions(pdf: bytes) -> list[tuple[str, float, float, float]]:
    """Each piece of text of the first page above the title, with x, y (mm) and its size in points."""
    reader = PdfReader(io.BytesIO(pdf))
    height = float(reader.pages[0].mediabox.height)
    found: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        y = (height - (tm[5] * cm[3] + cm[5])) / MM
        if text.strip() and y < 95:
            found.append((text.strip(), (tm[4] * cm[0] + cm[4]) / MM, y, size * tm[0]))

    reader.pages[0].extract_text(visitor_text=visit)
    return found


def width_mm(text: str, size: float) -> float:
    from fpdf import FPDF

    measure = FPDF()
    measure.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    measure.set_font("DejaVu", size=size)
    return measure.get_string_width(text)


def test_a_domestic_address_has_no_country_line() -> None:
    text = text_of(invoice(make_ctx() | NUMBERED)[0])

    assert "04109 Leipzig\nDE" not in text and "DEUTSCHLAND" not in text


def test_a_long_sku_and_name_wrap_in_their_columns() -> None:
    # Given a line whose article number and name are longer than their columns
    sku = "ESPRESSO-BLEND-SUPERIORE-1000G-BAG"
    name = "Espresso Superiore, 1 kg, ganze Bohne, Röstung mittel-dunkel, aus Brasilien und Äthiopien"
    ctx = make_ctx(
        total="69.90",
        line_items=[{"sku": sku, "name": name, "quantity": 2, "unit_price": "32.50", "tax_rate": "7"}],
    )

    pdf = invoice(ctx | NUMBERED)[0]

    # Then each wraps within its column: the SKU's pieces all start where the SKU column starts and
    # the name's where the name column starts, to the right of it, over several lines
    pieces = positions(pdf)
    sku_x = next(x for t, x, _ in pieces if t == "Art.-Nr.")
    name_x = next(x for t, x, _ in pieces if t == "Artikel")
    sku_parts = [(t, x, y) for t, x, y in pieces if t in sku and "-" in t]
    assert "".join(t for t, _, _ in sku_parts) == sku and len(sku_parts) > 1
    assert {round(x, 1) for _, x, _ in sku_parts} == {round(sku_x, 1)}
    name_parts = [(t, x, y) for t, x, y in pieces if t and t in name and len(t) > 3]
    assert " ".join(t for t, _, _ in name_parts) == name and len(name_parts) > 1
    assert {round(x, 1) for _, x, _ in name_parts} == {round(name_x, 1)}


def test_sixty_lines_run_over_pages_with_header_and_page_numbers() -> None:
    # Given an order of 60 lines
    lines = [
        {"sku": f"SKU-{i:03d}", "name": f"Kaffee Nummer {i}", "quantity": 1, "unit_price": "10.00", "tax_rate": "7"}
        for i in range(1, 61)
    ]
    ctx = make_ctx(LEGAL, total="604.90", line_items=lines) | NUMBERED

    # When its invoice is rendered
    pdf, root = invoice(ctx)
    pages = pages_of(pdf)

    # Then it takes several pages, each with the legal footer and "Seite n von m", and each page of
    # lines with the table's header
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):
        assert f"Seite {n} von {len(pages)}" in page
        assert "Registergericht: Amtsgericht Leipzig HRB 12345" in page
        assert "Pos. Art.-Nr. Artikel Menge Einzelpreis USt. Summe" in page or "SKU-" not in page
    # every line is there once, in order; the sums are on the last page only
    text = "\n".join(pages)
    found = [int(word[4:]) for word in text.split() if word.startswith("SKU-")]
    assert found == list(range(1, 61))
    assert "Gesamtbetrag 604,90 €" in pages[-1]
    assert all("Gesamtbetrag" not in page for page in pages[:-1])
    assert len(root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)) == 60


def test_a_delivery_note_has_the_same_letter_layout_without_prices() -> None:
    ctx = make_ctx(LEGAL)

    pdf, _ = render_document("delivery_note", ctx, FONTS)
    text = text_of(pdf)

    assert "Pos. Art.-Nr. Artikel Menge" in text and "1 ESP-1000 Espresso, 1 kg 2" in text
    assert "€" not in text
    assert "Seite 1 von 1" in text and "Registergericht: Amtsgericht Leipzig HRB 12345" in text
    x, y = where(pdf, "Anna Müller")
    assert 20 <= x <= 105 and 45 <= y <= 90


# ---------------------------------------------------------------- VAT cases


def test_small_business_shows_no_vat_and_says_why() -> None:
    # Given a small business (§19 UStG) with its tax number, and an order the platform taxed all the same
    shop = LEGAL | {"vat_regime": "small_business", "tax_id": None}
    ctx = make_ctx(shop) | NUMBERED

    pdf, root = invoice(ctx)
    text = text_of(pdf)

    # Then the PDF shows no VAT at all, but the legal note; the customer pays what the platform charged
    assert "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet." in text
    assert "USt.-Satz" not in text and "USt-IdNr." not in text and "USt." not in text and "%" not in text
    assert "1 ESP-1000 Espresso, 1 kg 2 32,50 € 65,00 €" in text
    assert "Gesamtbetrag 159,80 €" in text
    # And the XML puts every line at category E, 0 %, with the reason (BT-120; there is no VATEX code for §19)
    assert {e.text for e in root.xpath("//ram:CategoryCode", namespaces=NS)} == {"E"}
    assert set(amounts(root, "//ram:RateApplicablePercent")) == {Decimal(0)}
    assert one(root, SETTLEMENT + "/ram:ApplicableTradeTax/ram:ExemptionReason") == (
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
    )
    assert root.xpath("//ram:ExemptionReasonCode", namespaces=NS) == []
    # the gross line totals are the net amounts now: the total is the order's, the VAT nil
    assert amounts(root, SUMS + "/ram:TaxBasisTotalAmount") == [Decimal("159.80")]
    assert amounts(root, SUMS + "/ram:TaxTotalAmount") == [Decimal("0.00")]
    assert amounts(root, "//ram:LineTotalAmount")[:2] == [Decimal("65.00"), Decimal("89.90")]


def test_small_business_is_a_shop_setting() -> None:
    assert Shop.model_validate({"id": "x", "name": "X"}).vat_regime == "standard"
    assert Shop.model_validate({"id": "x", "name": "X", "vat_regime": "small_business"}).to_context()["vat_regime"] == (
        "small_business"
    )
    with pytest.raises(ValueError, match="vat_regime"):
        Shop.model_validate({"id": "x", "name": "X", "vat_regime": "exempt"})


def test_a_french_business_customer_of_a_service_gets_a_reverse_charge_invoice() -> None:
    # Given a shop selling services, and a company in Paris that ordered with its French VAT id
    ctx = make_ctx(
        LEGAL | {"supplies": "services"}, billing_address=PARIS, shipping_address=PARIS, buyer_vat_id="FR40303265045"
    )
    ctx = ctx | NUMBERED

    pdf, root = invoice(ctx)
    text = text_of(pdf)

    # Then no VAT is charged, the note says who owes it, and both VAT ids are printed
    assert "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)" in text
    assert "USt-IdNr. des Leistenden: DE123456789, USt-IdNr. des Leistungsempfängers: FR40303265045" in text
    assert "Ihre USt-IdNr.: FR40303265045" in text
    assert "0 % 159,80 € 0,00 € 159,80 €" in text
    # And the XML: category AE at 0 % with VATEX-EU-AE, the seller's (BT-31) and the buyer's (BT-48) VAT ids
    assert {e.text for e in root.xpath("//ram:CategoryCode", namespaces=NS)} == {"AE"}
    assert one(root, SETTLEMENT + "/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-AE"
    assert one(root, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE123456789"
    assert one(root, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR40303265045"
    assert amounts(root, SUMS + "/ram:GrandTotalAmount") == [Decimal("159.80")]
    assert amounts(root, SUMS + "/ram:TaxTotalAmount") == [Decimal("0.00")]


def test_goods_to_a_french_business_are_a_tax_free_intra_community_supply() -> None:
    # Given a company in Paris that ordered goods with its French VAT id
    ctx = make_ctx(LEGAL, billing_address=PARIS, shipping_address=PARIS, buyer_vat_id="FR40303265045") | NUMBERED

    pdf, root = invoice(ctx)
    text = text_of(pdf)

    # Then no VAT is charged, the note names the exemption (not the reverse charge of services), both ids printed
    assert "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b i. V. m. § 6a UStG)" in text
    assert "Reverse Charge" not in text
    assert "USt-IdNr. des Leistenden: DE123456789, USt-IdNr. des Leistungsempfängers: FR40303265045" in text
    assert "0 % 159,80 € 0,00 € 159,80 €" in text
    # And the XML: category K with VATEX-EU-IC, and where the goods went (BT-80, BR-IC-12)
    assert {e.text for e in root.xpath("//ram:CategoryCode", namespaces=NS)} == {"K"}
    assert one(root, SETTLEMENT + "/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-IC"
    assert one(root, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert one(root, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR40303265045"


@pytest.mark.parametrize(
    ("buyer_vat_id", "address"),
    [
        ("DE987654321", PARIS),  # a German VAT id: a domestic business sale, German VAT
        (None, PARIS),  # a French consumer: German VAT (distance sales above the threshold are the OSS's)
        ("FR40303265045", PARIS),  # but the shop has no VAT id: no reverse charge
    ],
    ids=["same-country-id", "consumer", "seller-without-vat-id"],
)
def test_no_reverse_charge_without_two_vat_ids_of_two_eu_countries(buyer_vat_id: str | None, address: dict) -> None:
    shop = {"tax_id": "231/456/78901"} if buyer_vat_id == "FR40303265045" else {}
    ctx = make_ctx(shop, billing_address=address, shipping_address=address) | NUMBERED
    ctx["customer"]["vat_id"] = buyer_vat_id

    assert einvoice.vat_case(ctx).kind == "standard"
    root = invoice(ctx)[1]
    assert {e.text for e in root.xpath("//ram:CategoryCode", namespaces=NS)} == {"S"}


def test_an_order_to_switzerland_is_an_export() -> None:
    # Given an order shipped to Zürich, taxed by the platform at German rates
    ctx = make_ctx(LEGAL, billing_address=ZURICH | {"country": "CH"}, shipping_address=ZURICH | {"country": "CH"})
    ctx = ctx | NUMBERED | {"customer": {"language": "en"}}

    pdf, root = invoice(ctx)
    text = text_of(pdf)

    # Then it is VAT free, says so, and the customer pays what the platform charged: the gross is net now
    assert "Export outside the EU, VAT exempt" in text
    assert "SWITZERLAND" in text
    assert {e.text for e in root.xpath("//ram:CategoryCode", namespaces=NS)} == {"G"}
    assert one(root, SETTLEMENT + "/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-G"
    assert one(root, SETTLEMENT + "/ram:ApplicableTradeTax/ram:ExemptionReason") == "Export outside the EU, VAT exempt"
    assert amounts(root, SUMS + "/ram:TaxBasisTotalAmount") == amounts(root, SUMS + "/ram:GrandTotalAmount")


def test_goods_to_switzerland_billed_to_germany_are_still_exported() -> None:
    ctx = make_ctx(shipping_address=ZURICH | {"country": "CH"})

    assert einvoice.vat_case(ctx).category == "G"


# ---------------------------------------------------------------- currencies


def test_an_invoice_in_dollars_states_the_vat_in_the_shops_euros_too() -> None:
    # Given a customer who paid in dollars a shop that keeps its books in euros
    ctx = make_ctx(currency="USD", shop_money={"currency": "EUR", "total": "147.00", "tax_total": "17.64"})

    pdf, root = invoice(ctx | NUMBERED)

    # Then the invoice is in dollars, with its VAT also in euros: the shop's own figure
    assert one(root, SETTLEMENT + "/ram:InvoiceCurrencyCode") == "USD"
    assert one(root, SETTLEMENT + "/ram:TaxCurrencyCode") == "EUR"  # BT-6
    totals = {e.get("currencyID"): Decimal(e.text) for e in root.xpath(SUMS + "/ram:TaxTotalAmount", namespaces=NS)}
    assert totals == {"USD": Decimal("19.18"), "EUR": Decimal("17.64")}  # BT-110, BT-111
    assert "Umsatzsteuer in EUR: 17,64 €" in text_of(pdf)


def test_without_the_shops_vat_figure_it_is_converted_at_the_orders_rate() -> None:
    # 19.18 USD of VAT at 147.00 / 159.80 EUR per USD
    ctx = make_ctx(currency="USD", shop_money={"currency": "EUR", "total": "147.00"})

    root = invoice(ctx | NUMBERED)[1]

    assert amounts(root, SUMS + "/ram:TaxTotalAmount[@currencyID='EUR']") == [Decimal("17.64")]


def test_an_invoice_in_the_shops_own_currency_states_no_second_vat_total() -> None:
    ctx = make_ctx(shop_money={"currency": "EUR", "total": "159.80"})

    root = invoice(ctx | NUMBERED)[1]

    assert root.xpath(SETTLEMENT + "/ram:TaxCurrencyCode", namespaces=NS) == []
    assert len(root.xpath(SUMS + "/ram:TaxTotalAmount", namespaces=NS)) == 1
