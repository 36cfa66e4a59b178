"""Customers: matching by e-mail or postal address, stable shop-scoped ids, aggregates counted once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from regelwerk.model.customer import (
    Customer,
    apply_order,
    customer_id_for,
    customer_id_for_email,
    normalise_address,
    normalise_email,
)
from regelwerk.model.order import Address, Order

ADDRESS = {"name": "Anna Müller", "street": "Hauptstraße", "house_number": "5", "zip": "04109", "city": "Leipzig"}


def address(**changes: Any) -> Address:
    return Address.model_validate(ADDRESS | {"country": "DE"} | changes)


def order(**changes: Any) -> Order:
    base = {
        "id": "1001",
        "number": "1001",
        "currency": "EUR",
        "total": "149.90",
        "created_at": "2026-11-23T09:15:00+01:00",
        "customer": {"id": "5001", "email": "Anna.Mueller@Example.de", "first_name": "Anna", "last_name": "Müller"},
        "shipping_address": ADDRESS | {"country": "DE", "phone": "0151 2345 6789"},
        "billing_address": ADDRESS | {"country": "DE"},
    }
    return Order.model_validate(base | changes)


# ---------------------------------------------------------------- e-mail


@pytest.mark.parametrize("raw", ["anna.mueller@example.de", "  Anna.Mueller@Example.DE ", "ANNA.MUELLER@EXAMPLE.DE"])
def test_normalise_email_ignores_case_and_surrounding_space(raw: str) -> None:
    assert normalise_email(raw) == "anna.mueller@example.de"


def test_normalise_email_keeps_different_addresses_apart() -> None:
    assert normalise_email("anna@example.de") != normalise_email("anna2@example.de")


# ---------------------------------------------------------------- postal address


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"street": "Hauptstr."},
        {"street": "Hauptstr"},
        {"street": "Hauptstrasse"},
        {"street": "HAUPTSTRASSE"},
        {"street": "HAUPTSTRAẞE"},  # capital sharp s
        {"street": "Haupt straße"},
        {"street": "  Hauptstraße  "},
        {"name": "Anna Mueller"},
        {"name": "anna müller"},
        {"name": "ANNA MÜLLER"},
        {"name": "Anna  Müller", "city": "LEIPZIG"},
        {"zip": "04 109"},
    ],
)
def test_address_spellings_collapse_to_one_key(variant: dict[str, str]) -> None:
    # Given the same postal address written another way, Then it reduces to the same key
    assert normalise_address(address(**variant)) == normalise_address(address())


def test_address_key_is_letters_and_digits_only() -> None:
    assert normalise_address(address()) == "annamuellerhauptstr504109leipzigde"


def test_accents_other_than_umlauts_are_dropped() -> None:
    assert normalise_address(address(city="Besançon", country="FR")) == normalise_address(
        address(city="Besancon", country="FR")
    )


@pytest.mark.parametrize(
    "variant",
    [{"house_number": "7"}, {"zip": "04103"}, {"name": "Bernd Müller"}, {"country": "AT"}, {"street": "Hauptweg"}],
)
def test_different_addresses_stay_apart(variant: dict[str, str]) -> None:
    assert normalise_address(address(**variant)) != normalise_address(address())


def test_decomposed_umlauts_collapse_like_composed_ones() -> None:
    decomposed = address(name="Anna Mu\u0308ller", city="Mu\u0308nchen")
    composed = address(name="Anna Müller", city="München")
    assert normalise_address(decomposed) == normalise_address(composed)


# ---------------------------------------------------------------- customer ids


def test_customer_id_is_stable_and_prefixed() -> None:
    first = customer_id_for("demo", order(), "email")
    assert first == customer_id_for("demo", order(), "email")
    assert first.startswith("cus_")
    assert len(first) == len("cus_") + 24


def test_customer_id_is_scoped_to_the_shop() -> None:
    assert customer_id_for("demo", order(), "email") != customer_id_for("other-shop", order(), "email")


def test_email_matching_ignores_case_and_a_different_address() -> None:
    a = order(customer={"email": "anna.mueller@example.de"})
    b = order(
        id="1002",
        customer={"email": "ANNA.MUELLER@example.de"},
        shipping_address={"city": "Berlin", "country": "DE"},
        billing_address=None,
    )
    assert customer_id_for("demo", a, "email") == customer_id_for("demo", b, "email")


def test_address_matching_ignores_the_email_and_spelling() -> None:
    a = order(customer={"email": "anna@example.de"})
    b = order(
        id="1002",
        customer={"email": "anna.work@example.com"},
        billing_address=ADDRESS | {"country": "DE", "street": "Hauptstr."},
    )
    assert customer_id_for("demo", a, "address") == customer_id_for("demo", b, "address")
    assert customer_id_for("demo", a, "email") != customer_id_for("demo", b, "email")


def test_address_matching_prefers_the_billing_address() -> None:
    a = order(shipping_address={"city": "Berlin", "country": "DE"})
    b = order(shipping_address={"city": "Hamburg", "country": "DE"})
    assert customer_id_for("demo", a, "address") == customer_id_for("demo", b, "address")


def test_email_matching_without_email_falls_back_to_the_address() -> None:
    no_email = order(customer={"first_name": "Anna"})
    assert customer_id_for("demo", no_email, "email") == customer_id_for("demo", no_email, "address")


def test_address_matching_without_address_falls_back_to_the_email() -> None:
    a = order(billing_address=None, shipping_address=None)
    b = order(id="1002", billing_address=None, shipping_address=None, customer={"email": "anna.mueller@EXAMPLE.de"})
    assert customer_id_for("demo", a, "address") == customer_id_for("demo", b, "address")


def test_without_email_or_address_each_order_is_its_own_customer() -> None:
    a = order(customer={}, billing_address=None, shipping_address=None)
    b = order(id="1002", customer={}, billing_address=None, shipping_address=None)
    assert customer_id_for("demo", a, "email") != customer_id_for("demo", b, "email")
    assert customer_id_for("demo", a, "email") == customer_id_for("demo", a, "address")


# ---------------------------------------------------------------- aggregates


def test_first_order_creates_the_customer() -> None:
    customer = apply_order(None, "cus_1", order(), new_order=True)

    assert customer.id == "cus_1"
    assert customer.order_count == 1
    assert customer.total_spent == {"EUR": "149.90"}
    assert customer.email == "Anna.Mueller@Example.de"
    assert (customer.first_name, customer.last_name) == ("Anna", "Müller")
    assert customer.phone == "0151 2345 6789"  # from the shipping address
    assert customer.country == "DE"
    assert customer.external_id == "5001"
    assert customer.first_order_at == customer.last_order_at == datetime.fromisoformat("2026-11-23T09:15:00+01:00")


def test_an_update_of_a_known_order_is_not_counted_again() -> None:
    # Given a customer with one order, When the same order arrives again as an update
    once = apply_order(None, "cus_1", order(), new_order=True)
    updated = apply_order(once, "cus_1", order(status="shipped"), new_order=False)
    # Then the aggregates stay as they were
    assert updated.order_count == 1
    assert updated.total_spent == {"EUR": "149.90"}


def test_total_spent_is_summed_exactly_per_currency() -> None:
    customer = apply_order(None, "cus_1", order(total="0.10"), new_order=True)
    customer = apply_order(customer, "cus_1", order(id="2", total="0.20"), new_order=True)
    customer = apply_order(customer, "cus_1", order(id="3", total="19.99", currency="USD"), new_order=True)
    customer = apply_order(customer, "cus_1", order(id="4", total="1000", currency="JPY"), new_order=True)

    assert customer.order_count == 4
    # decimal strings, not floats: 0.10 + 0.20 is exactly 0.30
    assert customer.total_spent == {"EUR": "0.30", "USD": "19.99", "JPY": "1000"}


def test_first_and_last_order_dates_follow_created_at() -> None:
    later = apply_order(None, "cus_1", order(created_at="2026-11-23T09:15:00+01:00"), new_order=True)
    both = apply_order(later, "cus_1", order(id="2", created_at="2026-01-05T10:00:00+01:00"), new_order=True)
    assert both.first_order_at == datetime.fromisoformat("2026-01-05T10:00:00+01:00")
    assert both.last_order_at == datetime.fromisoformat("2026-11-23T09:15:00+01:00")


def test_contact_details_are_refreshed_but_not_erased() -> None:
    known = Customer(id="cus_1", email="old@example.de", phone="+4930123456", language="en", first_name="Anna")
    updated = apply_order(
        known, "cus_1", order(customer={"email": "new@example.de"}, shipping_address=None), new_order=False
    )

    assert updated.email == "new@example.de"
    assert updated.first_name == "Anna"  # the order has none: the known one stays
    assert updated.phone == "+4930123456"
    assert updated.language == "en"  # a customer's chosen language is kept
    assert known.email == "old@example.de"  # the stored record is not mutated


def test_customer_context_has_a_display_name() -> None:
    assert Customer(id="c", first_name="Anna", last_name="Müller").to_context()["name"] == "Anna Müller"
    assert Customer(id="c", last_name="Müller").to_context()["name"] == "Müller"
    assert Customer(id="c").to_context()["name"] is None


def test_with_the_shops_key_the_id_is_an_hmac_no_one_derives_from_the_email_alone():
    key, other_key = b"k" * 32, b"o" * 32
    keyed = customer_id_for_email("demo", "Anna.Mueller@example.de ", key)
    assert keyed == customer_id_for_email("demo", "anna.mueller@example.de", key)  # stable, normalised
    assert keyed != customer_id_for_email("demo", "anna.mueller@example.de")  # not the legacy sha256
    assert keyed != customer_id_for_email("demo", "anna.mueller@example.de", other_key)
    assert keyed.startswith("cus_") and len(keyed) == len(customer_id_for_email("demo", "x@example.de"))
    assert customer_id_for("demo", order(), "email", key) == customer_id_for_email("demo", order().customer.email, key)
