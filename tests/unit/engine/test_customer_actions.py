"""Customer actions: language from the delivery country, tags and groups."""

from __future__ import annotations

import pytest

from regelwerk.engine.customer_actions import _apply_one, language_of_country
from regelwerk.engine.rule import load_rule
from regelwerk.errors import InvalidInput
from regelwerk.model.customer import Customer
from regelwerk.model.order import Order


@pytest.mark.parametrize(
    ("country", "language"),
    [("DE", "de"), ("AT", "de"), ("CH", "de"), ("GB", "en"), ("US", "en"), ("FR", "fr"), ("PL", "pl")],
)
def test_language_of_country(country, language):
    assert language_of_country(country) == language


def _order(country: str | None) -> Order:
    address = {"country": country} if country else None
    return Order.model_validate(
        {
            "id": "1",
            "number": "1",
            "currency": "EUR",
            "total": "1",
            "created_at": "2026-11-24T10:00:00+01:00",
            "shipping_address": address,
        }
    )


def test_language_set_from_shipping_country_or_fallback():
    customer = Customer(id="c")
    assert _apply_one({"type": "set_customer_language"}, customer, _order("AT"))["state"] == "done"
    assert customer.language == "de"
    other = Customer(id="d")
    result = _apply_one({"type": "set_customer_language", "fallback": "en"}, other, _order(None))
    assert result["state"] == "done" and other.language == "en"
    result = _apply_one({"type": "set_customer_language"}, Customer(id="e"), _order(None))
    assert result["state"] == "failed" and "no fallback" in result["reason"]


def test_tags_add_remove_replace_and_groups():
    customer = Customer(id="c", tags=["newsletter", "vip"])
    _apply_one({"type": "tag_customer", "add": ["Stammkunde", "vip"], "remove": ["newsletter"]}, customer, None)
    assert customer.tags == ["vip", "Stammkunde"]
    _apply_one({"type": "tag_customer", "replace": ["b2b"], "field": "groups"}, customer, None)
    assert customer.groups == ["b2b"] and customer.tags == ["vip", "Stammkunde"]


def test_customer_actions_take_no_delay_and_have_no_output():
    doc = {
        "id": "r",
        "name": "R",
        "trigger": {"event": "order.imported"},
        "actions": [{"type": "tag_customer", "add": ["x"], "delay": "5m", "as": "t"}],
    }
    with pytest.raises(InvalidInput) as exc:
        load_rule(doc)
    paths = {p.path for p in exc.value.problems}
    assert paths == {"$.actions[0].delay", "$.actions[0].as"}
