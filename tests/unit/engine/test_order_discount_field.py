"""order.order_discount: the discount not already in a line's total, for conditions and templates."""

from __future__ import annotations

from regelwerk.engine.context import rule_context
from regelwerk.engine.rule import load_rule
from regelwerk.model.order import Order
from regelwerk.model.shop import Shop

SHOP = Shop.model_validate({"id": "demo", "name": "Demo"})
ORDER = {
    "id": "1",
    "number": "1",
    "currency": "EUR",
    "total": "134.90",
    "shipping_total": "4.90",
    "discount_total": "15.00",
    "created_at": "2026-11-23T09:15:00+01:00",
    "line_items": [
        {"name": "Espresso", "quantity": "2", "unit_price": "32.50", "discount": "5.00", "tax_rate": "7"},
        {"name": "Tasse", "quantity": "4", "unit_price": "20.00", "tax_rate": "19"},
    ],
}


def test_the_order_discount_is_what_the_lines_do_not_already_carry() -> None:
    ctx = rule_context(SHOP, order=Order.model_validate(ORDER))
    assert ctx["order"]["order_discount"] == {"amount": "10.00", "currency": "EUR"}
    only_lines = Order.model_validate(ORDER | {"discount_total": "5.00", "total": "144.90"})
    assert rule_context(SHOP, order=only_lines)["order"]["order_discount"] is None
    assert (
        rule_context(SHOP, order=Order.model_validate(ORDER | {"discount_total": None}))["order"]["order_discount"]
        is None
    )


def test_a_rule_may_test_it() -> None:
    rule = {
        "id": "coupon",
        "name": "Coupon orders",
        "trigger": {"event": "order.imported"},
        "when": {"all": [{"field": "order.order_discount", "op": "gt", "value": "5"}]},
        "actions": [{"type": "email", "template": "thanks", "to": "customer"}],
    }
    assert load_rule(rule).rule.id == "coupon"
