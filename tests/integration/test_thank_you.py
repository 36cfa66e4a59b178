"""The demo's thank-you e-mail: its lines, shipping and discounts add up to the total, with the shop's imprint below."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.conftest import order_event, sent_emails

AMOUNT = re.compile(r"(-?)(\d+,\d\d)\xa0€")


def discounted_order() -> dict:
    """Anna's order with 5.00 off the espresso, a 10.00 coupon on the order and 4.90 shipping: 134.90."""
    return order_event(
        1,
        total="134.90",
        subtotal="140.00",
        shipping_total="4.90",
        discount_total="15.00",  # every discount, the line's 5.00 included
        tax_total=None,
        line_items=[
            {
                "sku": "ESP-1000",
                "name": "Espresso",
                "quantity": "2",
                "unit_price": "32.50",
                "discount": "5.00",
                "tax_rate": "7",
            },
            {"sku": "MUG-01", "name": "Tasse", "quantity": "4", "unit_price": "20.00", "tax_rate": "19"},
        ],
    )


def listed_amounts(text: str) -> list[Decimal]:
    """The amounts of the list's lines ("- ...: 60,00 €", "- Rabatt: -10,00 €"), signed."""
    amounts = []
    for line in text.splitlines():
        if line.startswith("- "):
            sign, figure = AMOUNT.findall(line.split(": ")[-1])[0]
            amounts.append(Decimal(sign + figure.replace(",", ".")))
    return amounts


def test_the_thank_you_lists_lines_shipping_and_discount_that_add_up_to_the_total(demo_shop):
    # Given an order with a line discount, an order discount and shipping
    status, _ = demo_shop.post(discounted_order())
    demo_shop.drain()
    assert status == 202

    # Then the thank-you lists each line after its discount, the shipping and the order's discount
    [mail] = [m for m in sent_emails() if m["Subject"] == "Danke für Ihre Bestellung 1001"]
    text = mail.get_body(("plain",)).get_content()
    assert "- 2 × Espresso: 60,00\xa0€ (abzgl. 5,00\xa0€ Rabatt)" in text
    assert "- 4 × Tasse: 80,00\xa0€" in text
    assert "- Versand: 4,90\xa0€" in text
    assert "- Rabatt: -10,00\xa0€" in text
    assert "Gesamt: 134,90\xa0€" in text
    # and what it lists adds up to the total it states
    assert sum(listed_amounts(text)) == Decimal("134.90")
    html = mail.get_body(("html",)).get_content()
    assert "Versand" in html and "-10,00\xa0€" in html and "134,90\xa0€" in html


def test_an_order_without_discounts_lists_no_discount(demo_shop):
    demo_shop.post(order_event(1))
    demo_shop.drain()
    [mail] = [m for m in sent_emails() if m["Subject"] == "Danke für Ihre Bestellung 1001"]
    text = mail.get_body(("plain",)).get_content()
    assert "Rabatt" not in text
    assert sum(listed_amounts(text)) == Decimal("149.90") and "Gesamt: 149,90\xa0€" in text


def test_customer_e_mails_carry_the_shops_imprint_and_the_owners_notices_do_not(demo_shop):
    # Given the demo shop's legal details in shop.yaml, when a big order comes in
    demo_shop.post(order_event(1, total="649.90"))
    demo_shop.drain()
    mails = sent_emails()
    thanks = next(m for m in mails if m["Subject"] == "Danke für Ihre Bestellung 1001")

    # Then the customer's e-mail ends with the imprint, in the text and in the HTML
    text = thanks.get_body(("plain",)).get_content()
    imprint = text.split("\n-- \n", 1)[1]
    assert imprint.splitlines() == [
        "Kaffeerösterei Morgenrot GmbH",
        "Karl-Liebknecht-Straße 12, 04107 Leipzig",
        "Registergericht: Amtsgericht Leipzig, Registernummer: HRB 12345",
        "Geschäftsführung: Marie Morgenrot",
        "USt-IdNr. DE123456789",
    ]
    html = thanks.get_body(("html",)).get_content()
    assert (
        "Registergericht: Amtsgericht Leipzig, Registernummer: HRB 12345<br>Geschäftsführung: Marie Morgenrot" in html
    )
    # and the owner's alert about the big order has none
    [alert] = [m for m in mails if m["To"] == "inhaberin@morgenrot.example"]
    assert "Registergericht" not in alert.get_body(("plain",)).get_content()
