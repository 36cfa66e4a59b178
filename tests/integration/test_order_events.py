"""order.paid, order.shipped and order.cancelled as a shop owner means them: the first time the order
is seen in that state, on import as on update, once per order, whatever the redeliveries."""

from __future__ import annotations

from regelwerk.store.tables import OrderItem
from tests.conftest import order_event, sent_sms


def test_an_order_that_arrives_paid_fires_order_paid_and_redelivery_fires_nothing_new(demo_shop):
    # Given a prepaid Shopify order Regelwerk has never seen
    first = order_event(1)
    # When it arrives
    status, answer = demo_shop.post(first)
    # Then it is imported and its payment announced, and the paid-order rule fires for it
    assert status == 202
    assert answer["events"] == ["order.imported", "order.paid"]
    assert "start-packing" in answer["rules_fired"]
    assert OrderItem.get("demo", "9007199254740993").announced == {"paid"}

    # When the same body comes again, as the same delivery and under a new delivery id
    assert demo_shop.post(first)[1]["duplicate"] is True
    status, again = demo_shop.post(first | {"event_id": "shopify-redelivered-1001"})
    # Then nothing fires a second time
    assert status == 202 and again["events"] == [] and again["rules_fired"] == []


def test_an_order_that_arrives_shipped_announces_payment_and_shipping_once(demo_shop):
    # Given an order first seen when it has already left (paid and shipped)
    status, answer = demo_shop.post(order_event(3))
    demo_shop.drain()
    assert status == 202
    assert answer["events"] == ["order.imported", "order.paid", "order.shipped"]
    # the shipped SMS and the review request go out; a shipped order is not moved back to packing
    assert {"shipped", "review-request", "thank-you"} <= set(answer["rules_fired"])
    assert "start-packing" not in answer["rules_fired"]
    assert len(sent_sms()) == 1
    assert OrderItem.get("demo", "9007199254740993").status == "shipped"

    # When it goes on hold and is shipped again (a re-shipment of the same parcel)
    held = order_event(3, status="on_hold", shipped_at=None, updated_at="2026-11-25T09:00:00+01:00")
    shipped = order_event(3, updated_at="2026-11-25T10:00:00+01:00")
    assert demo_shop.post(held | {"event_id": "held"})[1]["events"] == ["order.status_changed"]
    status, answer = demo_shop.post(shipped | {"event_id": "shipped-again"})
    demo_shop.drain()
    # Then only the status change fires: the customer gets no second "on its way" SMS
    assert answer["events"] == ["order.status_changed"]
    assert len(sent_sms()) == 1


def test_paid_on_hold_paid_fires_order_paid_once(demo_shop):
    # Given an unpaid order
    assert demo_shop.post(order_event(2))[1]["events"] == ["order.imported"]

    def update(event_id: str, status: str, at: str) -> list[str]:
        body = order_event(2, status=status, updated_at=at) | {"event_id": event_id}
        return demo_shop.post(body)[1]["events"]

    # When it is paid, put on hold (the payment bounced for review) and paid again
    assert update("paid", "paid", "2026-11-24T10:00:00+00:00") == ["order.status_changed", "order.paid"]
    assert update("held", "on_hold", "2026-11-24T11:00:00+00:00") == ["order.status_changed"]
    # Then the second payment is a status change, not a second order.paid
    assert update("paid-again", "paid", "2026-11-24T12:00:00+00:00") == ["order.status_changed"]
    assert OrderItem.get("demo", "1002").announced == {"paid"}


def test_an_order_that_arrives_cancelled_fires_order_cancelled(demo_shop):
    status, answer = demo_shop.post(order_event(2, status="cancelled"))
    assert status == 202 and answer["events"] == ["order.imported", "order.cancelled"]
