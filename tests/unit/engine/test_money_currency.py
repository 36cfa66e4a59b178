"""A money condition names its currency: amounts in another currency are not compared."""

from __future__ import annotations

import pytest

from regelwerk.engine.conditions import compile_condition


def ctx(amount: str, currency: str) -> dict:
    return {"order": {"total": {"amount": amount, "currency": currency}}}


@pytest.mark.parametrize(
    ("value", "op", "eur60", "gbp60"),
    [
        ({"amount": "50", "currency": "EUR"}, "gt", True, False),  # 60 GBP is not "over 50 EUR"
        ("50 EUR", "gt", True, False),
        ({"amount": "60", "currency": "EUR"}, "eq", True, False),
        ({"amount": "60", "currency": "EUR"}, "ne", False, True),  # and not equal to it either
        ([{"amount": "50", "currency": "EUR"}, {"amount": "70", "currency": "EUR"}], "between", True, False),
        ("50", "gt", True, True),  # no currency named: the amount alone, as before
    ],
)
def test_a_money_condition_compares_only_amounts_in_its_currency(value, op, eur60, gbp60) -> None:
    condition = compile_condition({"field": "order.total", "op": op, "value": value})
    assert condition.matches(ctx("60.00", "EUR")) is eur60
    assert condition.matches(ctx("60.00", "GBP")) is gbp60
    assert condition.explain(ctx("60.00", "GBP"))["result"] is gbp60
