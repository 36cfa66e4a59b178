"""Every invoice and credit note Regelwerk makes passes the official EN 16931 business rules for CII
(CEN/TC 434's schematron: BR-*, BR-CO-*, BR-S/Z/E/AE/G-*, code lists, CII syntax) with no failed
assert, fatal or warning, in every VAT case."""

from __future__ import annotations

from typing import Any

import facturx
import pytest
from lxml import etree

from regelwerk.documents.pdf import render_document
from tests import FONTS
from tests.unit.documents import cen_rules
from tests.unit.documents.test_credit_note import credit_ctx, money, refund
from tests.unit.documents.test_einvoice import NS, make_ctx
from tests.unit.documents.test_invoice_content import LEGAL, NUMBERED, PARIS, ZURICH


def invoice_ctx(shop: dict[str, Any] | None = None, customer: dict[str, Any] | None = None, **order: Any) -> dict:
    ctx = make_ctx(LEGAL | (shop or {}), **order) | NUMBERED
    ctx["customer"] |= customer or {}
    return ctx


SIXTY = [
    {"sku": f"SKU-{i:03d}", "name": f"Kaffee {i}", "quantity": 1, "unit_price": "10.00", "tax_rate": "7"}
    for i in range(60)
]
CH = ZURICH | {"country": "CH"}
DOCUMENTS = {
    # invoices
    "two-rates-with-shipping": ("invoice", invoice_ctx()),
    "discount": ("invoice", invoice_ctx(total="150.00", shipping_total=None, discount_total="4.90")),
    "fees": ("invoice", invoice_ctx(total="170.00", fee_total="10.20")),
    "shipping-at-its-own-rate": ("invoice", invoice_ctx(total="159.80", shipping_tax_rate="19", shipping_tax="0.78")),
    "voucher-line": (
        "invoice",
        invoice_ctx(
            total="149.80",
            line_items=[
                {"name": "Espresso, 1 kg", "quantity": 2, "unit_price": "32.50", "tax_rate": "7"},
                {"name": "Gutschein", "quantity": 1, "unit_price": "-10.00", "tax_rate": "19"},
                {"name": "Kaffeemühle", "quantity": 1, "unit_price": "89.90", "tax_rate": "19"},
            ],
        ),
    ),
    "zero-rated-line": (
        "invoice",
        invoice_ctx(
            total="38.40",
            shipping_total=None,
            line_items=[{"name": "Zeitschrift", "quantity": 3, "unit_price": "12.80", "tax_rate": "0"}],
        ),
    ),
    "decimal-quantity": (
        "invoice",
        invoice_ctx(
            total="11.35",
            line_items=[{"name": "Bergkäse", "quantity": "1.5", "unit": "kg", "unit_price": "4.30", "tax_rate": "7"}],
        ),
    ),
    "paid": ("invoice", invoice_ctx(paid_at="2026-11-24T08:00:00+00:00", status="paid")),
    "tax-number-only": ("invoice", invoice_ctx({"tax_id": "231/456/78901", "legal": None})),
    "b2b-domestic": ("invoice", invoice_ctx(customer={"vat_id": "DE987654321"})),
    "small-business-E": ("invoice", invoice_ctx({"vat_regime": "small_business", "tax_id": None})),
    "reverse-charge-AE": (
        "invoice",
        invoice_ctx(
            {"supplies": "services"},
            customer={"vat_id": "FR40303265045"},
            billing_address=PARIS,
            shipping_address=PARIS,
        ),
    ),
    "intra-community-K": (
        "invoice",
        invoice_ctx(customer={"vat_id": "FR40303265045"}, billing_address=PARIS, shipping_address=PARIS),
    ),
    "export-G": ("invoice", invoice_ctx(billing_address=CH, shipping_address=CH)),
    "dollars-BT-6": (
        "invoice",
        invoice_ctx(currency="USD", shop_money={"currency": "EUR", "total": "147.00", "tax_total": "17.64"}),
    ),
    "sixty-lines": ("invoice", invoice_ctx(total="604.90", line_items=SIXTY)),
    "english": ("invoice", invoice_ctx(customer={"language": "en"})),
    # credit notes (381)
    "credit-note": ("credit_note", credit_ctx(refund())),
    "credit-note-amount-only": ("credit_note", credit_ctx(refund(lines=[], shipping=None, amount=money("20.00")))),
    "credit-note-without-invoice": ("credit_note", credit_ctx(refund(), corrects=None)),
    "credit-note-AE": (
        "credit_note",
        credit_ctx(refund(), billing_address=PARIS, shipping_address=PARIS)
        | {"customer": {"language": "de", "vat_id": "FR40303265045"}}
        | {"shop": invoice_ctx({"supplies": "services"})["shop"]},
    ),
    "credit-note-K": (
        "credit_note",
        credit_ctx(refund(), billing_address=PARIS, shipping_address=PARIS)
        | {"customer": {"language": "de", "vat_id": "FR40303265045"}},
    ),
    "credit-note-E": (
        "credit_note",
        credit_ctx(refund()) | {"shop": invoice_ctx({"vat_regime": "small_business"})["shop"]},
    ),
    "credit-note-dollars": (
        "credit_note",
        credit_ctx(refund(), currency="USD", shop_money={"currency": "EUR", "total": "147.00", "tax_total": "17.64"})
        | {"refund": refund(amount={"amount": "69.90", "currency": "USD"})},
    ),
}


def xml_of(kind: str, ctx: dict[str, Any]) -> bytes:
    pdf, _ = render_document(kind, ctx, FONTS)
    return facturx.get_xml_from_pdf(pdf, check_xsd=False)[1]


@pytest.mark.parametrize(("kind", "ctx"), DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_every_document_passes_the_cen_rules(kind: str, ctx: dict[str, Any]) -> None:
    # When the document is rendered, Then its XML breaks none of the official rules, not even a warning
    assert cen_rules.failed_rules(xml_of(kind, ctx)) == []


def test_the_rules_find_a_broken_sum_and_a_missing_reason() -> None:
    # Given valid XML of each kind (the rules run: hundreds of them)
    assert cen_rules.rule_count() > 800
    standard = xml_of("invoice", invoice_ctx())
    exempt = xml_of("invoice", invoice_ctx({"vat_regime": "small_business"}))

    # When a total is off by a cent, or the exemption reason is taken away
    off = standard.replace(b"<ram:TaxBasisTotalAmount>140.62<", b"<ram:TaxBasisTotalAmount>140.61<")
    root = etree.fromstring(exempt)
    for reason in root.xpath("//ram:ExemptionReason", namespaces=NS):
        reason.getparent().remove(reason)
    reasonless = etree.tostring(root)
    assert off != standard and reasonless != exempt

    # Then the rules say which
    assert any(rule.startswith("BR-CO-13 fatal") for rule in cen_rules.failed_rules(off))
    assert any(rule.startswith("BR-E-10 fatal") for rule in cen_rules.failed_rules(reasonless))
