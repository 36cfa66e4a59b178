"""Order events in: parsing the body (400 / 413 / 422 with paths), stable event ids, and derived trigger events."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from regelwerk.errors import InvalidInput, MalformedBody, PayloadTooLarge
from regelwerk.ingest.adapters.canonical import parse_order_event
from regelwerk.ingest.orders import derive_events
from regelwerk.ingest.run_writer import event_id_for
from regelwerk.model.order import Order
from regelwerk.settings import settings

ORDER = {
    "id": "1001",
    "number": "1001",
    "channel": "shopify",
    "currency": "EUR",
    "total": "149.90",
    "created_at": "2026-11-23T09:15:00+01:00",
}


def body(**order: Any) -> bytes:
    return json.dumps({"event_id": "evt-1", "order": ORDER | order}).encode()


def problems_of(raw: bytes) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        parse_order_event(raw)
    assert info.value.status == 422
    return [(p.path, p.reason) for p in info.value.problems]


# ---------------------------------------------------------------- what parses


def test_the_demo_event_parses() -> None:
    raw = (
        b'{"event_id": "shop-demo-order-1001-created", "order": {"id": "1001", "number": "1001",'
        b' "channel": "shopify", "status": "paid", "currency": "EUR", "total": "149.90",'
        b' "created_at": "2026-11-23T09:15:00+01:00", "paid_at": "2026-11-23T09:16:30+01:00",'
        b' "customer": {"email": "anna.mueller@example.de", "language": "de"},'
        b' "shipping_address": {"name": "Anna M\xc3\xbcller", "city": "Leipzig", "country": "de"},'
        b' "line_items": [{"sku": "ESP-1000", "name": "Espresso", "quantity": 2,'
        b' "unit_price": "32.50", "tax_rate": "7"}]}}'
    )
    event = parse_order_event(raw)

    assert event.event_id == "shop-demo-order-1001-created"
    assert event.order.status == "paid"
    assert event.order.shipping_address.name == "Anna Müller"
    assert event.order.shipping_address.country == "DE"  # upper-cased
    assert event.order.line_items[0].line_total("EUR") == Decimal("65.00")


def test_json_number_amounts_are_read_exactly() -> None:
    # Given amounts written as JSON numbers (not strings)
    raw = (
        b'{"order": {"id": "1", "number": "1", "currency": "EUR", "total": 149.90,'
        b' "created_at": "2026-11-23T09:15:00Z",'
        b' "line_items": [{"name": "x", "quantity": 3, "unit_price": 0.1}]}}'
    )
    order = parse_order_event(raw).order
    # Then they are Decimals with the written digits: 149.90 stays 149.90, 3 x 0.1 is exactly 0.3
    assert order.total == Decimal("149.90")
    assert str(order.total) == "149.90"
    assert order.line_items[0].line_total("EUR") == Decimal("0.30")
    assert order.to_context()["total"] == {"amount": "149.90", "currency": "EUR"}


def test_integer_ids_become_exact_strings() -> None:
    # 9007199254740993 is 2**53 + 1: a float (or JavaScript number) would turn it into ...992
    raw = (
        b'{"order": {"id": 9007199254740993, "number": "1", "currency": "EUR", "total": "1",'
        b' "created_at": "2026-11-23T09:15:00Z", "customer": {"id": 12345678901234567890}}}'
    )
    order = parse_order_event(raw).order
    assert order.id == "9007199254740993"
    assert order.customer.id == "12345678901234567890"


def test_the_event_id_is_optional() -> None:
    assert parse_order_event(json.dumps({"order": ORDER}).encode()).event_id is None


# ---------------------------------------------------------------- 400 malformed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"order": {"id": "1",}}', "malformed JSON: Illegal trailing comma before end of object at line 1 column 21"),
        (
            b'{\n  "order": {\n    "id": 1\n    "number": "2"\n  }\n}',
            "malformed JSON: Expecting ',' delimiter at line 4 column 5",
        ),
        (b"", "malformed JSON: Expecting value at line 1 column 1"),
        (b"{'order': {}}", "malformed JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        (b'{"order": "caf\xe9"}', "body is not UTF-8 text"),
    ],
)
def test_malformed_json_is_a_400_with_line_and_column(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedBody) as info:
        parse_order_event(raw)
    assert info.value.status == 400
    assert info.value.message == message
    assert info.value.as_dict()["error"] == "malformed_body"


@pytest.mark.parametrize("raw", [b"[]", b'"order"', b"null", b"42"])
def test_a_body_that_is_not_an_object_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidInput, match="the body must be a JSON object"):
        parse_order_event(raw)


# ---------------------------------------------------------------- 413 too large


def test_a_body_over_the_limit_is_a_413() -> None:
    limit = settings().max_body_bytes
    assert limit == 256 * 1024
    raw = body(note="x" * 100) + b" " * (limit - len(body(note="x" * 100)) + 1)
    assert len(raw) == limit + 1

    with pytest.raises(PayloadTooLarge) as info:
        parse_order_event(raw)
    assert info.value.status == 413
    assert info.value.message == f"body is {limit + 1} bytes; the limit is {limit}"


def test_a_body_at_the_limit_is_read() -> None:
    limit = settings().max_body_bytes
    raw = body() + b" " * (limit - len(body()))
    assert len(raw) == limit
    assert parse_order_event(raw).order.id == "1001"


# ---------------------------------------------------------------- 422 with paths


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"foo": 1}, [("$.order.foo", "unknown field")]),
        ({"number": None}, [("$.order.number", "Input should be a valid string")]),
        ({"created_at": "2026-11-23T09:15:00"}, [("$.order.created_at", "Input should have timezone info")]),
        ({"paid_at": "gestern"}, [("$.order.paid_at", "Input should be a valid datetime")]),
        (
            {"shipping_address": {"country": "XX"}},
            [("$.order.shipping_address.country", "unknown ISO 3166 country code 'XX'")],
        ),
        (
            {"billing_address": {"country": "DEU"}},
            [("$.order.billing_address.country", "must be an ISO 3166-1 alpha-2 country code such as DE")],
        ),
        ({"currency": "eur"}, [("$.order.currency", "must be an ISO 4217 currency code such as EUR")]),
        ({"total": "abc"}, [("$.order.total", "not a decimal amount: 'abc'")]),
        ({"total": "-1"}, [("$.order", "total must not be negative")]),
        ({"id": ""}, [("$.order.id", "must not be empty")]),
        ({"id": True}, [("$.order.id", "must be a string id")]),
        ({"status": "Shipped!"}, [("$.order.status", "must be lower-case letters")]),
        ({"payment_url": "http://pay.example"}, [("$.order.payment_url", "String should match pattern '^https://'")]),
        ({"customer": {"email": "not-an-email"}}, [("$.order.customer.email", "String should match pattern")]),
        (
            {
                "line_items": [
                    {"name": "a", "quantity": 1, "unit_price": "1"},
                    {"name": "b", "quantity": 0, "unit_price": "1"},
                ]
            },
            [("$.order.line_items[1].quantity", "quantity must be greater than 0")],
        ),
        (
            {"line_items": [{"name": "a", "quantity": 1, "unit_price": "1", "colour": "red"}]},
            [("$.order.line_items[0].colour", "unknown field")],
        ),
    ],
)
def test_invalid_order_fields_are_named_by_path(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    problems = problems_of(body(**changes))
    assert [path for path, _ in problems] == [path for path, _ in expected]
    for (_, reason), (_, fragment) in zip(problems, expected, strict=True):
        assert fragment in reason


def test_a_missing_order_is_named() -> None:
    assert problems_of(b'{"event_id": "x"}') == [("$.order", "required field is missing")]


def test_unknown_top_level_field() -> None:
    assert problems_of(json.dumps({"order": ORDER, "shop": "x"}).encode()) == [("$.shop", "unknown field")]


def test_every_problem_is_reported() -> None:
    problems = problems_of(body(currency="euro", created_at="2026-11-23", foo=1))
    assert sorted(path for path, _ in problems) == ["$.order.created_at", "$.order.currency", "$.order.foo"]


@pytest.mark.parametrize("raw_total", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_json_numbers_are_refused(raw_total: bytes) -> None:
    raw = (
        b'{"order": {"id": "1", "number": "1", "currency": "EUR", "total": '
        + raw_total
        + b', "created_at": "2026-11-23T09:15:00Z"}}'
    )
    [(path, _)] = problems_of(raw)
    assert path == "$.order.total"


# ---------------------------------------------------------------- event ids


def test_event_id_uses_the_senders_delivery_key() -> None:
    # the same delivery key gives the same id, whatever the body (a retry may be re-serialised)
    a = event_id_for("demo", "shopify", "delivery-42", b'{"a": 1}')
    b = event_id_for("demo", "shopify", "delivery-42", b'{"a":1}')
    assert a == b
    assert a.startswith("evt_")
    assert len(a) == len("evt_") + 26


def test_event_id_without_a_key_hashes_the_body() -> None:
    assert event_id_for("demo", "shopify", None, b"x") == event_id_for("demo", "shopify", None, b"x")
    assert event_id_for("demo", "shopify", None, b"x") != event_id_for("demo", "shopify", None, b"y")


@pytest.mark.parametrize(
    "other",
    [("other", "shopify", "k"), ("demo", "woocommerce", "k"), ("demo", "shopify", "k2"), ("demo", "shopify", None)],
)
def test_event_id_is_scoped_to_shop_platform_and_key(other: tuple[str, str, str | None]) -> None:
    assert event_id_for("demo", "shopify", "k", b"x") != event_id_for(*other, b"x")


# ---------------------------------------------------------------- derived events


def order(**changes: Any) -> Order:
    return Order.model_validate(ORDER | {"status": "new"} | changes)


PAID_AT = "2026-11-23T09:16:30+01:00"
SHIPPED_AT = "2026-11-24T14:00:00+01:00"


@pytest.mark.parametrize(
    ("previous", "current", "events"),
    [
        # a new order is imported, then announces each fact it already shows
        (None, {}, ["order.imported"]),
        (None, {"status": "paid", "paid_at": PAID_AT}, ["order.imported", "order.paid"]),
        (None, {"status": "cancelled"}, ["order.imported", "order.cancelled"]),
        # status changes
        ({}, {"status": "on_hold"}, ["order.status_changed"]),
        ({}, {"status": "paid"}, ["order.status_changed", "order.paid"]),
        ({}, {"status": "paid", "paid_at": PAID_AT}, ["order.status_changed", "order.paid"]),
        ({}, {"paid_at": PAID_AT}, ["order.paid"]),  # paid without a status change
        (
            {"status": "paid", "paid_at": PAID_AT},
            {"status": "shipped", "paid_at": PAID_AT, "shipped_at": SHIPPED_AT},
            ["order.status_changed", "order.shipped"],
        ),
        (
            {"status": "paid", "paid_at": PAID_AT},
            {"status": "paid", "paid_at": PAID_AT, "shipped_at": SHIPPED_AT},
            ["order.shipped"],
        ),
        ({}, {"status": "cancelled"}, ["order.status_changed", "order.cancelled"]),
        # paid / shipped / cancelled are derived once
        ({"status": "paid", "paid_at": PAID_AT}, {"status": "paid", "paid_at": PAID_AT}, []),
        ({"paid_at": PAID_AT}, {"status": "paid", "paid_at": PAID_AT}, ["order.status_changed"]),
        ({"status": "paid"}, {"status": "paid", "paid_at": PAID_AT}, []),
        ({"status": "refunded", "paid_at": PAID_AT}, {"status": "paid", "paid_at": PAID_AT}, ["order.status_changed"]),
        (
            {"status": "shipped", "shipped_at": SHIPPED_AT},
            {"status": "completed", "shipped_at": SHIPPED_AT},
            ["order.status_changed"],
        ),
        ({"shipped_at": SHIPPED_AT}, {"status": "shipped", "shipped_at": SHIPPED_AT}, ["order.status_changed"]),
        ({"status": "cancelled"}, {"status": "cancelled"}, []),
        # nothing a rule triggers on changed
        ({}, {}, []),
        ({}, {"total": "99.00", "note": "changed", "updated_at": "2026-11-23T10:00:00+01:00"}, []),
    ],
)
def test_derive_events(previous: dict[str, Any] | None, current: dict[str, Any], events: list[str]) -> None:
    before = None if previous is None else order(**previous)
    assert derive_events(before, order(**current)) == events
