"""Amounts in an SMS are written in GSM-7, so a price does not turn the SMS into UCS-2 (two segments, double price)."""

from __future__ import annotations

from typing import Any

import pytest

from regelwerk.documents.sms import gsm7_amount, is_gsm7, segments
from regelwerk.documents.templates import render
from tests.unit.documents.test_templates import NBSP, make_ctx

SMS = "{{ shop.name }}: Ihre Bestellung {{ order.number }} über {{ order.total | money }} ist unterwegs. Danke!"


def sms(source: str, ctx: dict[str, Any] | None = None, language: str = "de") -> str:
    variant = {"text": source}
    return render(variant, ctx or make_ctx(), language=language, parts=("text",), sms=True)["text"]


def test_an_sms_with_an_amount_is_gsm7_and_one_segment() -> None:
    # Given a German shipping SMS with the order total, when it is rendered as an SMS
    text = sms(SMS)
    # Then the amount has a plain space before the euro sign, and the SMS is GSM-7 in one segment
    assert text == "Kaffee & Co: Ihre Bestellung 1001 über 149,90 € ist unterwegs. Danke!"
    assert segments(text) == ("GSM-7", 1)


def test_the_same_template_in_an_email_keeps_the_locales_no_break_space() -> None:
    out = render({"text": "{{ order.total | money }}"}, make_ctx(), language="de", parts=("text",))
    assert out["text"] == f"149,90{NBSP}€"
    # and an SMS rendered after it on the same thread is still plain, and an e-mail after that is not
    assert sms("{{ order.total | money }}") == "149,90 €"
    assert render({"text": "{{ order.total | money }}"}, make_ctx(), language="de", parts=("text",))["text"] != (
        "149,90 €"
    )


@pytest.mark.parametrize(
    ("language", "country", "amount", "expected"),
    [
        ("fr", "FR", {"amount": "1234.50", "currency": "EUR"}, "1 234,50 €"),  # narrow no-break spaces
        ("de", "CH", {"amount": "1234.50", "currency": "CHF"}, "CHF 1'234.50"),  # U+2019 as thousands separator
        ("pl", "PL", {"amount": "120.00", "currency": "PLN"}, "120,00 PLN"),  # zł: ł is not GSM-7
        ("en", "GB", {"amount": "24.90", "currency": "GBP"}, "£24.90"),  # £ is GSM-7
        ("de", "DE", {"amount": "-5.00", "currency": "EUR"}, "-5,00 €"),
    ],
)
def test_amounts_in_other_locales_are_gsm7(language: str, country: str, amount: dict[str, str], expected: str) -> None:
    text = sms("{{ order.total | money }}", make_ctx(country, total=amount), language=language)
    assert text == expected
    assert is_gsm7(text)


def test_direction_marks_go_and_digits_outside_gsm7_are_refused() -> None:
    # Babel marks Arabic amounts right-to-left: the mark is invisible and not GSM-7
    ar = make_ctx("EG", total={"amount": "12.50", "currency": "USD"})
    assert sms("{{ order.total | money }}", ar, language="ar") == "12.50 US$"
    # Arabic-Indic digits have no GSM-7 form: the filter then writes the amount and the ISO code
    assert gsm7_amount("\u0661\u0662\u066b\u0665\u0660\u00a0US$", "US$", "USD") is None
