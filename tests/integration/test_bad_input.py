"""Bad input is refused with a reason naming the field, and a refused request writes nothing."""

from __future__ import annotations

import pytest

from regelwerk.store.tables import CustomerItem, OrderItem, RunItem
from tests.conftest import order_event


def _nothing_written(shop_id: str = "demo") -> bool:
    return (
        not list(OrderItem.query(shop_id))
        and not list(RunItem.query(shop_id))
        and not list(CustomerItem.query(shop_id))
    )


def test_malformed_json_is_400_with_position(demo_shop):
    status, body = demo_shop.post(b'{"order": {"id": ')
    assert status == 400
    assert body["error"] == "malformed_body"
    assert "line 1 column 18" in body["message"]
    assert _nothing_written()


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        ({"foo": 1}, "$.order.foo", "unknown field"),
        ({"total": "zwölf"}, "$.order.total", "not a decimal amount"),
        ({"currency": "euro"}, "$.order.currency", "ISO 4217"),
        ({"created_at": "2026-11-23T09:15:00"}, "$.order.created_at", "timezone"),
        (
            {"line_items": [{"name": "x", "quantity": 0, "unit_price": "1"}]},
            "$.order.line_items[0].quantity",
            "greater than 0",
        ),
        ({"shipping_address": {"country": "XX"}}, "$.order.shipping_address.country", "unknown ISO 3166"),
    ],
)
def test_invalid_fields_are_422_naming_path_and_reason(demo_shop, change, path, reason):
    status, body = demo_shop.post(order_event(1, **change))
    assert status == 422
    problem = next(p for p in body["problems"] if p["path"] == path)
    assert reason in problem["reason"]
    assert _nothing_written()


def test_missing_order_is_named(demo_shop):
    status, body = demo_shop.post({"event_id": "x"})
    assert status == 422
    assert body["problems"] == [{"path": "$.order", "reason": "required field is missing"}]


def test_missing_and_wrong_keys_are_401(demo_shop):
    assert demo_shop.post(order_event(1), key="")[0] == 401
    assert demo_shop.post(order_event(1), key="rw_not-a-real-key")[0] == 401
    assert _nothing_written()


def test_another_shops_key_never_opens_this_shop(demo_shop):
    from regelwerk.model.shop import Shop
    from regelwerk.store.shops import create_key, save_shop

    save_shop(Shop(id="other", name="Other shop"))
    other_key = create_key("other", "ingest")
    status, _body = demo_shop.post(order_event(1), key=other_key)
    assert status == 401
    assert _nothing_written()


def test_unknown_shop_is_404_and_unknown_platform_is_404(demo_shop):
    status, body = demo_shop.post(order_event(1), path="/v1/shops/nope/events/regelwerk")
    assert status == 404 and "unknown shop" in body["message"]
    status, body = demo_shop.post(order_event(1), path="/v1/shops/demo/events/magento")
    assert status == 404 and "unknown platform" in body["message"]


def test_body_over_256_kb_is_413(demo_shop):
    status, _body = demo_shop.post(order_event(1, note="x" * 10) | {"padding": "y" * 300_000})
    assert status == 413
    assert _nothing_written()


def test_non_object_body_is_422(demo_shop):
    status, _body = demo_shop.post(b"[1, 2, 3]")
    assert status == 422
