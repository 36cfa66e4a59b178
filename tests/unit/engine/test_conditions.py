"""Conditions: every operator on the right field kinds, missing values, nesting, explain() and compile errors."""

from __future__ import annotations

from typing import Any

import pytest

from regelwerk.engine.conditions import OPERATORS, compile_condition
from regelwerk.errors import InvalidInput
from regelwerk.model.customer import Customer
from regelwerk.model.order import Order

ORDER = {
    "id": "9007199254740993",
    "number": "1001",
    "channel": "shopify",
    "status": "paid",
    "currency": "EUR",
    "total": "149.90",
    "subtotal": "145.00",
    "created_at": "2026-11-23T09:15:00+01:00",
    "paid_at": "2026-11-23T09:16:30+01:00",
    "customer": {"id": "5001", "email": "anna.mueller@example.de", "first_name": "Anna", "language": "de"},
    "shipping_address": {"name": "Anna Müller", "city": "Leipzig", "zip": "04109", "country": "DE"},
    "line_items": [
        {"sku": "ESP-1000", "name": "Espresso", "quantity": 2, "unit_price": "32.50"},
        {"sku": "MUG-01", "name": "Tasse", "quantity": 4, "unit_price": "20.00"},
    ],
    "tags": ["vip", "b2b"],
    "note": "Bitte klingeln",
}


def make_ctx(previous: dict[str, Any] | None = None, **order: Any) -> dict[str, Any]:
    """The context a rule sees, built the way ingest builds it (money as dicts, times as ISO strings)."""
    current = Order.model_validate(ORDER | order)
    customer = Customer(id="cus_1", order_count=3, total_spent={"EUR": "420.50"}, tags=["newsletter"])
    return {
        "order": current.to_context(),
        "customer": customer.to_context(),
        "shop": {"id": "demo", "currency": "EUR"},
        "event": {"type": "order.status_changed", "status": current.status},
        "invoice": None,
        "previous": None if previous is None else {"order": Order.model_validate(ORDER | previous).to_context()},
    }


def holds(condition: dict[str, Any], ctx: dict[str, Any] | None = None) -> bool:
    return compile_condition(condition).matches(ctx if ctx is not None else make_ctx())


def problems_of(source: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        compile_condition(source)
    return [(p.path, p.reason) for p in info.value.problems]


# ---------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        # money: the context holds {"amount": "149.90", "currency": "EUR"}
        ("order.total", "eq", "149.90", True),
        ("order.total", "eq", "149.9", True),  # Decimal equality, not text equality
        ("order.total", "eq", 150, False),
        ("order.total", "ne", "100", True),
        ("order.total", "ne", "149.90", False),
        ("order.total", "gt", 100, True),
        ("order.total", "gt", "149.90", False),
        ("order.total", "gte", "149.90", True),
        ("order.total", "gte", "149.91", False),
        ("order.total", "lt", "149.91", True),
        ("order.total", "lt", "149.90", False),
        ("order.total", "lte", "149.90", True),
        ("order.total", "lte", "149.89", False),
        ("order.total", "gt", {"amount": "99.90", "currency": "EUR"}, True),
        ("order.total", "between", ["100", "149.90"], True),  # inclusive
        ("order.total", "between", ["150", "200"], False),
        ("order.total", "in", ["99.00", "149.90"], True),
        ("order.total", "not_in", ["99.00", "149.90"], False),
        # integers and decimals
        ("customer.order_count", "eq", 3, True),
        ("customer.order_count", "gte", "3", True),
        ("customer.order_count", "gt", 3, False),
        ("customer.order_count", "between", [1, 2], False),
        ("order.item_count", "eq", 6, True),
        ("customer.total_spent.EUR", "gt", "420", True),
        ("customer.total_spent.EUR", "lt", "420.50", False),
        # date-times (ISO strings in the context), compared as instants across offsets
        ("order.paid_at", "gt", "2026-11-23T08:00:00Z", True),
        ("order.paid_at", "eq", "2026-11-23T08:16:30+00:00", True),
        ("order.paid_at", "lt", "2026-11-23T09:16:30+01:00", False),
        ("order.paid_at", "lte", "2026-11-23T09:16:30+01:00", True),
        ("order.paid_at", "gte", "2026-11-24T00:00:00+01:00", False),
        ("order.paid_at", "between", ["2026-11-01T00:00:00+01:00", "2026-11-30T23:59:59+01:00"], True),
        ("order.created_at", "between", ["2026-12-01T00:00:00+01:00", "2026-12-31T00:00:00+01:00"], False),
        # strings
        ("order.shipping_address.country", "eq", "DE", True),
        ("order.shipping_address.country", "eq", "AT", False),
        ("order.shipping_address.country", "ne", "AT", True),
        ("order.channel", "in", ["shopify", "woocommerce"], True),
        ("order.channel", "in", ["woocommerce"], False),
        ("order.channel", "not_in", ["amazon", "ebay"], True),
        ("order.channel", "not_in", ["shopify"], False),
        ("order.note", "contains", "klingeln", True),
        ("order.note", "contains", "Klingeln", False),  # case-sensitive
        ("order.note", "not_contains", "Hund", True),
        ("order.note", "not_contains", "Bitte", False),
        ("order.number", "starts_with", "10", True),
        ("order.number", "starts_with", "20", False),
        ("order.number", "starts_with", 10, True),  # a whole number is read as text for a string field
        ("order.customer.email", "ends_with", "@example.de", True),
        ("order.customer.email", "ends_with", "@example.com", False),
        ("order.number", "matches", r"^\d{4}$", True),
        ("order.customer.email", "matches", r"@example\.(com|org)$", False),
        # lists
        ("order.tags", "contains", "vip", True),
        ("order.tags", "contains", "wholesale", False),
        ("order.skus", "contains", "ESP-1000", True),
        ("order.skus", "not_contains", "ESP-2000", True),
        ("order.skus", "not_contains", "MUG-01", False),
        ("customer.tags", "contains", "newsletter", True),
    ],
)
def test_operator_on_field_kind(field: str, op: str, value: Any, expected: bool) -> None:
    # Given the demo order context, When one leaf is evaluated, Then it gives the expected result
    assert holds({"field": field, "op": op, "value": value}) is expected


@pytest.mark.parametrize(
    ("field", "op", "expected"),
    [
        ("order.paid_at", "exists", True),
        ("order.paid_at", "not_exists", False),
        ("order.shipped_at", "exists", False),
        ("order.shipped_at", "not_exists", True),
        ("order.billing_address.city", "exists", False),  # the whole parent is missing
        ("order.billing_address.city", "not_exists", True),
        ("invoice.number", "not_exists", True),  # no invoice in an order event
        ("order.raw.anything.deep", "not_exists", True),
    ],
)
def test_exists_and_not_exists(field: str, op: str, expected: bool) -> None:
    assert holds({"field": field, "op": op}) is expected


def test_every_operator_is_covered_by_these_tests() -> None:
    # Then the operator table is what the tests above exercise (a new operator needs new tests)
    assert set(OPERATORS) == {
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "between",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "matches",
        "exists",
        "not_exists",
        "changed",
        "changed_to",
    }


# ---------------------------------------------------------------- changed / changed_to


def test_changed_compares_with_the_previous_order() -> None:
    ctx = make_ctx(previous={"status": "new", "paid_at": None})
    assert holds({"field": "order.status", "op": "changed"}, ctx) is True
    assert holds({"field": "order.paid_at", "op": "changed"}, ctx) is True
    assert holds({"field": "order.total", "op": "changed"}, ctx) is False


def test_changed_to_needs_the_new_value_and_a_different_old_value() -> None:
    moved = make_ctx(previous={"status": "new"})
    stayed = make_ctx(previous={"status": "paid"})
    condition = {"field": "order.status", "op": "changed_to", "value": "paid"}

    assert holds(condition, moved) is True
    assert holds(condition, stayed) is False
    assert holds({"field": "order.status", "op": "changed_to", "value": "shipped"}, moved) is False


def test_changed_to_on_money_reads_the_amount() -> None:
    ctx = make_ctx(previous={"total": "99.00"})
    assert holds({"field": "order.total", "op": "changed_to", "value": "149.90"}, ctx) is True
    assert holds({"field": "order.total", "op": "changed_to", "value": "99.00"}, ctx) is False


@pytest.mark.parametrize("op", ["changed", "changed_to"])
def test_changed_is_false_without_a_previous_order(op: str) -> None:
    # Given a new order (no previous version), When changed/changed_to is tested, Then it is false
    condition = {"field": "order.status", "op": op} | ({"value": "paid"} if op == "changed_to" else {})
    assert holds(condition, make_ctx(previous=None)) is False


def test_previous_order_fields_can_be_tested_directly() -> None:
    ctx = make_ctx(previous={"status": "new"})
    assert holds({"field": "previous.order.status", "op": "eq", "value": "new"}, ctx) is True


# ---------------------------------------------------------------- missing values


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "2026-11-23T09:16:30+01:00", False),
        ("ne", "2026-11-23T09:16:30+01:00", True),  # a missing value is "not equal"
        ("gt", "2000-01-01T00:00:00+00:00", False),
        ("gte", "2000-01-01T00:00:00+00:00", False),
        ("lt", "2100-01-01T00:00:00+00:00", False),
        ("lte", "2100-01-01T00:00:00+00:00", False),
        ("between", ["2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00"], False),
        ("in", ["2026-11-23T09:16:30+01:00"], False),
        ("not_in", ["2026-11-23T09:16:30+01:00"], False),
    ],
)
def test_missing_datetime_fails_every_comparison_except_ne(op: str, value: Any, expected: bool) -> None:
    # Given an order that has not shipped (shipped_at is null)
    ctx = make_ctx()
    assert ctx["order"]["shipped_at"] is None
    # Then comparisons against the missing value are false (and do not raise)
    assert holds({"field": "order.shipped_at", "op": op, "value": value}, ctx) is expected


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("eq", "Leipzig"),
        ("in", ["Leipzig"]),
        ("not_in", ["Berlin"]),
        ("contains", "Leip"),
        ("not_contains", "Berlin"),
        ("starts_with", "L"),
        ("ends_with", "g"),
        ("matches", "."),
    ],
)
def test_missing_text_is_false_for_text_operators(op: str, value: Any) -> None:
    # Given no billing address at all, When a text operator runs on it, Then it is false
    assert holds({"field": "order.billing_address.city", "op": op, "value": value}) is False


def test_missing_money_is_false() -> None:
    assert holds({"field": "order.shipping_total", "op": "lt", "value": "5"}) is False
    assert holds({"field": "order.shipping_total", "op": "ne", "value": "5"}) is True


def test_missing_customer_part_of_the_context_is_a_missing_value() -> None:
    ctx = make_ctx() | {"customer": None}
    assert holds({"field": "customer.order_count", "op": "gt", "value": 0}, ctx) is False
    assert holds({"field": "customer.email", "op": "not_exists"}, ctx) is True


# ---------------------------------------------------------------- nesting


def test_all_any_not_nest() -> None:
    condition = {
        "all": [
            {"field": "order.shipping_address.country", "op": "eq", "value": "DE"},
            {
                "any": [
                    {"field": "order.total", "op": "gt", "value": 1000},
                    {"not": {"field": "order.channel", "op": "eq", "value": "amazon"}},
                ]
            },
        ]
    }
    assert holds(condition) is True
    assert holds(condition, make_ctx(channel="amazon")) is False
    assert holds(condition, make_ctx(channel="amazon", total="1500")) is True


@pytest.mark.parametrize(("count", "failing_at"), [(2, 1), (3, 2), (5, 4), (5, 0)])
def test_all_is_false_when_any_member_fails(count: int, failing_at: int) -> None:
    # The compiled tree has special shapes for 2 and 3 members: each must still check every member
    members = [{"field": "order.total", "op": "gt", "value": 1}] * count
    members = [*members[:failing_at], {"field": "order.total", "op": "gt", "value": 1000}, *members[failing_at + 1 :]]
    assert holds({"all": members}) is False
    assert holds({"any": members}) is True


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_any_is_true_when_only_the_last_member_holds(count: int) -> None:
    members = [{"field": "order.total", "op": "gt", "value": 1000}] * (count - 1)
    assert holds({"any": [*members, {"field": "order.total", "op": "gt", "value": 1}]}) is True
    assert holds({"any": [*members, {"field": "order.total", "op": "gt", "value": 999}]}) is False


def test_no_conditions_always_match_and_explain_nothing() -> None:
    condition = compile_condition(None)
    assert condition.matches({}) is True
    assert condition.explain({}) is None


# ---------------------------------------------------------------- explain


def test_explain_shows_every_leaf_with_its_actual_value_even_after_a_failure() -> None:
    # Given an all[...] whose first leaf fails (the fast path short-circuits there)
    condition = compile_condition(
        {
            "all": [
                {"field": "order.total", "op": "gt", "value": 200},
                {"field": "order.shipping_address.country", "op": "eq", "value": "DE"},
                {"field": "order.shipped_at", "op": "exists"},
                {"field": "order.paid_at", "op": "lt", "value": "2030-01-01T00:00:00+00:00"},
            ]
        }
    )
    # When explained
    explanation = condition.explain(make_ctx())
    # Then every leaf is listed with the value it saw (JSON-friendly) and its own result
    assert explanation == {
        "all": [
            {"field": "order.total", "op": "gt", "value": 200, "actual": "149.90", "result": False},
            {"field": "order.shipping_address.country", "op": "eq", "value": "DE", "actual": "DE", "result": True},
            {"field": "order.shipped_at", "op": "exists", "value": None, "actual": None, "result": False},
            {
                "field": "order.paid_at",
                "op": "lt",
                "value": "2030-01-01T00:00:00+00:00",
                "actual": "2026-11-23T09:16:30+01:00",
                "result": True,
            },
        ],
        "result": False,
    }


def test_explain_nested_groups_and_not() -> None:
    condition = compile_condition(
        {
            "any": [
                {"field": "order.tags", "op": "contains", "value": "wholesale"},
                {"not": {"field": "order.channel", "op": "in", "value": ["amazon"]}},
            ]
        }
    )
    explanation = condition.explain(make_ctx())
    assert explanation["result"] is True
    first, negation = explanation["any"]
    assert first == {
        "field": "order.tags",
        "op": "contains",
        "value": "wholesale",
        "actual": ["vip", "b2b"],
        "result": False,
    }
    assert negation["result"] is True
    assert negation["not"] == [
        {"field": "order.channel", "op": "in", "value": ["amazon"], "actual": "shopify", "result": False}
    ]


def test_explain_agrees_with_matches() -> None:
    condition = compile_condition(
        {
            "all": [
                {"field": "order.total", "op": "gte", "value": "149.90"},
                {"field": "order.status", "op": "eq", "value": "paid"},
            ]
        }
    )
    for ctx in (make_ctx(), make_ctx(status="new"), make_ctx(total="10")):
        assert condition.explain(ctx)["result"] is condition.matches(ctx)


# ---------------------------------------------------------------- compile errors


@pytest.mark.parametrize(
    ("leaf", "path", "reason"),
    [
        ({"field": "order.nope", "op": "eq", "value": 1}, "$.when.all[1].field", "unknown field 'order.nope'"),
        ({"op": "eq", "value": 1}, "$.when.all[1].field", "required: a field path such as order.total"),
        ({"field": "order.total", "op": "bigger", "value": 1}, "$.when.all[1].op", "unknown operator 'bigger'"),
        ({"field": "order.total", "op": "gt"}, "$.when.all[1].value", "gt needs a value"),
        ({"field": "order.paid_at", "op": "exists", "value": True}, "$.when.all[1].value", "exists takes no value"),
        ({"field": "order.status", "op": "changed", "value": "x"}, "$.when.all[1].value", "changed takes no value"),
        ({"field": "order.total", "op": "gt", "value": 1, "unit": "EUR"}, "$.when.all[1].unit", "unknown key"),
        (
            {"field": "order.total", "op": "gt", "value": 99.9},
            "$.when.all[1].value",
            'amounts must be given as strings or whole numbers, e.g. "99.90"',
        ),
        (
            {"field": "order.total", "op": "gt", "value": True},
            "$.when.all[1].value",
            "amounts must be given as strings",
        ),
        ({"field": "order.total", "op": "gt", "value": "lots"}, "$.when.all[1].value", "'lots' is not a number"),
        (
            {"field": "customer.order_count", "op": "gt", "value": "3x"},
            "$.when.all[1].value",
            "'3x' is not a whole number",
        ),
        (
            {"field": "customer.order_count", "op": "gt", "value": 2.5},
            "$.when.all[1].value",
            "2.5 is not a whole number",
        ),
        (
            {"field": "order.paid_at", "op": "gt", "value": "yesterday"},
            "$.when.all[1].value",
            "'yesterday' is not an ISO 8601 date-time",
        ),
        (
            {"field": "order.paid_at", "op": "gt", "value": "2026-11-01T00:00:00"},
            "$.when.all[1].value",
            "date-times need a time zone offset",
        ),
        ({"field": "order.status", "op": "eq", "value": ["paid"]}, "$.when.all[1].value", "must be a string"),
        (
            {"field": "order.status", "op": "gt", "value": "a"},
            "$.when.all[1].value",
            "gt does not apply to a string field",
        ),
        ({"field": "order.tags", "op": "eq", "value": "vip"}, "$.when.all[1].value", "use contains"),
        ({"field": "order.tags", "op": "in", "value": ["vip"]}, "$.when.all[1].value", "use contains for lists"),
        ({"field": "order.total", "op": "contains", "value": "1"}, "$.when.all[1].value", "not to a money field"),
        ({"field": "order.tags", "op": "starts_with", "value": "v"}, "$.when.all[1].value", "not to a list field"),
        ({"field": "order.total", "op": "between", "value": ["1"]}, "$.when.all[1].value", "a list of two values"),
        (
            {"field": "order.total", "op": "between", "value": ["200", "100"]},
            "$.when.all[1].value",
            "between: the low value is greater than the high value",
        ),
        (
            {"field": "order.status", "op": "between", "value": ["a", "b"]},
            "$.when.all[1].value",
            "does not apply to a string",
        ),
        (
            {"field": "order.channel", "op": "in", "value": []},
            "$.when.all[1].value",
            "in needs a non-empty list of values",
        ),
        (
            {"field": "order.channel", "op": "not_in", "value": "shopify"},
            "$.when.all[1].value",
            "not_in needs a non-empty list",
        ),
        ({"field": "order.channel", "op": "in", "value": ["x"] * 1001}, "$.when.all[1].value", "at most 1000 values"),
        ({"field": "customer.email", "op": "changed"}, "$.when.all[1].op", "changed works on order fields"),
        ({"field": "order.number", "op": "matches", "value": "("}, "$.when.all[1].value", "invalid regular expression"),
        ({"field": "order.number", "op": "matches", "value": ""}, "$.when.all[1].value", "needs a regular expression"),
        ({"field": "order.number", "op": "matches", "value": "a" * 201}, "$.when.all[1].value", "longer than 200"),
        ({"field": "order.total", "op": "matches", "value": "1"}, "$.when.all[1].value", "applies to text fields"),
    ],
)
def test_compile_error_names_the_json_path(leaf: dict[str, Any], path: str, reason: str) -> None:
    # Given a valid first leaf and a broken second one
    source = {"all": [{"field": "order.total", "op": "gt", "value": 100}, leaf]}
    # Then exactly one problem is reported, at the broken leaf's path
    [(got_path, got_reason)] = problems_of(source)
    assert got_path == path
    assert reason in got_reason


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(a*)*b", r"(\w+\s?)+$", r"(?:x+){2,}", r"(a)\1", r"(?:[a-z]+)*@"],
)
def test_matches_refuses_catastrophic_backtracking_shapes(pattern: str) -> None:
    [(path, reason)] = problems_of({"field": "order.number", "op": "matches", "value": pattern})
    assert path == "$.when.value"
    assert reason == "nested quantifiers, repeated alternatives and back-references are not allowed in matches"


def test_matches_refuses_nested_quantifier_hidden_in_an_inner_group() -> None:
    # ((a+))+$ on "aaaa...a!" backtracks exponentially, like (a+)+$; not run here, only compiled.
    [(path, reason)] = problems_of({"field": "order.number", "op": "matches", "value": r"((a+))+$"})
    assert path == "$.when.value"
    assert "nested quantifiers" in reason


def test_matches_allows_ordinary_patterns() -> None:
    assert holds({"field": "order.number", "op": "matches", "value": r"^[0-9]{4}$"}) is True
    assert holds({"field": "order.customer.email", "op": "matches", "value": r"^[^@]+@example\.de$"}) is True


def test_every_problem_is_reported_not_only_the_first() -> None:
    problems = problems_of(
        {
            "all": [
                {"field": "order.nope", "op": "eq", "value": 1},
                {"field": "order.total", "op": "bigger", "value": 1},
                {"any": [{"field": "order.total", "op": "gt"}]},
            ]
        }
    )
    assert [path for path, _ in problems] == ["$.when.all[0].field", "$.when.all[1].op", "$.when.all[2].any[0].value"]


@pytest.mark.parametrize(
    ("source", "path", "reason"),
    [
        ([{"field": "order.total", "op": "gt", "value": 1}], "$.when", "must be an object"),
        ({"all": []}, "$.when.all", "must be a non-empty list of conditions"),
        ({"any": {"field": "order.total"}}, "$.when.any", "must be a non-empty list of conditions"),
        (
            {"all": [{"field": "order.total", "op": "gt", "value": 1}], "any": []},
            "$.when.any",
            "unexpected next to 'all'",
        ),
        ({"not": "order.total"}, "$.when.not", "must be an object"),
    ],
)
def test_group_shape_errors(source: Any, path: str, reason: str) -> None:
    [(got_path, got_reason)] = problems_of(source)
    assert got_path == path
    assert reason in got_reason


def _wrapped_in_nots(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "order.total", "op": "gt", "value": 1}
    for _ in range(levels):
        node = {"not": node}
    return node


def test_nesting_ten_levels_deep_is_allowed() -> None:
    assert compile_condition(_wrapped_in_nots(10)).matches(make_ctx()) is True  # ten nots: even -> unchanged


def test_nesting_deeper_than_ten_levels_is_refused() -> None:
    [(path, reason)] = problems_of(_wrapped_in_nots(11))
    assert path == "$.when" + ".not" * 11
    assert reason == "conditions nest at most 10 levels deep"


def test_at_most_200_conditions() -> None:
    leaf = {"field": "order.total", "op": "gt", "value": 1}
    compile_condition({"all": [leaf] * 199})  # 199 leaves + the group = 200 nodes
    [(path, reason)] = problems_of({"all": [leaf] * 200})
    assert path == "$.when.all[199]"
    assert reason == "a rule may have at most 200 conditions"


# ---------------------------------------------------------------- nothing is evaluated


def test_code_in_a_value_is_just_a_string() -> None:
    payload = "__import__('os').system('echo pwned')"
    condition = {"field": "order.note", "op": "eq", "value": payload}
    # The value is compared as text: it matches only a note with exactly that text
    assert holds(condition) is False
    assert holds(condition, make_ctx(note=payload)) is True
    assert compile_condition(condition).explain(make_ctx())["value"] == payload


@pytest.mark.parametrize(
    ("leaf", "path"),
    [
        ({"field": "__import__('os')", "op": "eq", "value": 1}, "$.when.field"),
        ({"field": "order.__class__", "op": "eq", "value": 1}, "$.when.field"),
        ({"field": "order.total", "op": "__eq__", "value": 1}, "$.when.op"),
        ({"field": "order.total", "op": "lambda ctx: True", "value": 1}, "$.when.op"),
    ],
)
def test_code_in_a_field_or_operator_is_refused(leaf: dict[str, Any], path: str) -> None:
    [(got_path, _)] = problems_of(leaf)
    assert got_path == path


# ---------------------------------------------------------------- non-finite numbers


@pytest.mark.parametrize(("op", "value"), [("gt", "NaN"), ("eq", "sNaN")])
def test_non_finite_amount_strings_are_refused(op: str, value: str) -> None:
    [(path, _)] = problems_of({"field": "order.total", "op": op, "value": value})
    assert path == "$.when.value"


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_float_amounts_give_a_validation_problem(value: float) -> None:
    [(path, _)] = problems_of({"field": "order.total", "op": "gt", "value": value})
    assert path == "$.when.value"
