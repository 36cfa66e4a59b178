"""Money: Decimal amounts, never floats; one JSON shape; rounding to the currency's minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from regelwerk.model.money import Money, minor_units, to_decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("149.90", Decimal("149.90")),
        (" 149.90 ", Decimal("149.90")),
        (150, Decimal("150")),
        (Decimal("0.1"), Decimal("0.1")),
        ("-5", Decimal("-5")),
        ("1e2", Decimal("100")),
    ],
)
def test_to_decimal_reads_strings_integers_and_decimals(raw: object, expected: Decimal) -> None:
    assert to_decimal(raw) == expected


def test_to_decimal_keeps_the_written_precision() -> None:
    assert str(to_decimal("149.90")) == "149.90"


@pytest.mark.parametrize("raw", [0.1, 149.9, 1.0, True, False])
def test_floats_and_booleans_are_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="not floating point numbers"):
        to_decimal(raw)


@pytest.mark.parametrize("raw", ["abc", "", "1,50", None])
def test_text_that_is_no_number_is_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="not a decimal amount"):
        to_decimal(raw)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-inf", Decimal("NaN"), Decimal("Infinity")])
def test_non_finite_amounts_are_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="amount must be finite"):
        to_decimal(raw)


def test_money_of_refuses_floats() -> None:
    with pytest.raises(ValueError):
        Money.of(0.1, "EUR")


def test_decimal_sums_are_exact() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats; in Money it is 0.30
    total = Money.of("0.10", "EUR") + Money.of("0.20", "EUR")
    assert total.amount == Decimal("0.30")
    assert total.as_dict() == {"amount": "0.30", "currency": "EUR"}


def test_adding_different_currencies_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot add USD to EUR"):
        Money.of("1", "EUR") + Money.of("1", "USD")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("149.9", "EUR", "149.90"),
        ("0.125", "EUR", "0.13"),  # half up, not banker's rounding
        ("0.135", "EUR", "0.14"),
        ("-0.125", "EUR", "-0.13"),
        ("0.124", "EUR", "0.12"),
        ("1234.5", "JPY", "1235"),
        ("1.2345", "KWD", "1.235"),
        ("100", "EUR", "100.00"),
        ("1e2", "EUR", "100.00"),
    ],
)
def test_quantize_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    money = Money.of(amount, currency)
    assert str(money.quantized().amount) == expected
    assert money.as_dict() == {"amount": expected, "currency": currency}


def test_quantized_keeps_the_original_unchanged() -> None:
    money = Money.of("0.125", "EUR")
    money.quantized()
    assert money.amount == Decimal("0.125")


@pytest.mark.parametrize(("currency", "units"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3), ("CHF", 2)])
def test_minor_units(currency: str, units: int) -> None:
    assert minor_units(currency) == units


@pytest.mark.parametrize(
    ("minor", "currency", "expected"), [(14990, "EUR", "149.90"), (1500, "JPY", "1500"), (1235, "KWD", "1.235")]
)
def test_from_minor_units(minor: int, currency: str, expected: str) -> None:
    assert Money.from_minor(minor, currency).as_dict() == {"amount": expected, "currency": currency}


def test_from_dict_round_trips_as_dict() -> None:
    money = Money.from_dict({"amount": "149.90", "currency": "EUR"})
    assert money == Money(Decimal("149.90"), "EUR")
    assert Money.from_dict(money.as_dict()) == money


def test_from_dict_refuses_a_float_amount() -> None:
    with pytest.raises(ValueError):
        Money.from_dict({"amount": 149.9, "currency": "EUR"})


def test_str_shows_the_quantized_amount_and_code() -> None:
    assert str(Money.of("149.9", "EUR")) == "149.90 EUR"
