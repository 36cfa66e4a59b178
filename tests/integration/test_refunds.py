"""Refunds: order.refunded once per refund, spend net of refunds, and a credit note that corrects the invoice."""

from __future__ import annotations

from regelwerk.store.customers import customer_from_item
from regelwerk.store.tables import CustomerItem, OrderItem
from tests.conftest import order_event

REFUND = {
    "id": "r-1",
    "created_at": "2026-11-25T10:00:00+01:00",
    "amount": "20.00",
    "reason": "Tasse zerbrochen",
    "lines": [{"sku": "MUG-01", "name": "Tasse", "quantity": "1", "total": "20.00", "tax_rate": "19"}],
}


def refunded(*refunds: dict, minute: int = 0) -> dict:
    return order_event(1, updated_at=f"2026-11-25T10:{minute:02d}:00+01:00", refunds=list(refunds)) | {
        "event_id": f"refund-{len(refunds)}-{minute}"
    }


def spent(shop_id: str = "demo") -> str:
    order = OrderItem.get(shop_id, "9007199254740993")
    return customer_from_item(CustomerItem.get(shop_id, order.customer_id)).total_spent["EUR"]


def test_a_partial_refund_fires_order_refunded_once_and_spend_is_net(demo_shop):
    assert demo_shop.post(order_event(1))[0] == 202
    assert spent() == "149.90"

    # When the shop refunds one mug
    status, answer = demo_shop.post(refunded(REFUND))
    assert status == 202 and answer["events"] == ["order.refunded"]
    run = demo_shop.run(answer["run_id"])
    assert run["note"] is None  # not "order unchanged"
    assert spent() == "129.90"  # the customer's spend is net of the refund

    # And the same state sent again (a redelivery, a later update) fires nothing new
    status, answer = demo_shop.post(refunded(REFUND, minute=5))
    assert answer["events"] == [] and spent() == "129.90"

    # A second refund fires again, for that refund only
    second = REFUND | {"id": "r-2", "amount": "4.90", "lines": [], "shipping": "4.90"}
    status, answer = demo_shop.post(refunded(REFUND, second, minute=9))
    assert answer["events"] == ["order.refunded"] and spent() == "125.00"


def test_an_order_arriving_with_a_refund_counts_net_and_fires_it(demo_shop):
    status, answer = demo_shop.post(order_event(1, refunds=[REFUND]))
    assert status == 202 and answer["events"] == ["order.imported", "order.paid", "order.refunded"]
    assert spent() == "129.90"
