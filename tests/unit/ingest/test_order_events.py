"""Order events as a shop owner names them: paid, shipped and cancelled fire once per order, on import as on update."""

from __future__ import annotations

from regelwerk.ingest.orders import derive_events, order_facts
from tests.unit.ingest.test_order_parsing import PAID_AT, SHIPPED_AT, order


def test_an_order_first_seen_shipped_announces_import_payment_and_shipping_in_that_order() -> None:
    arrived = order(status="shipped", paid_at=PAID_AT, shipped_at=SHIPPED_AT)
    assert derive_events(None, arrived) == ["order.imported", "order.paid", "order.shipped"]


def test_paid_on_hold_paid_announces_payment_once() -> None:
    # Given an order whose payment was announced when it came in
    new, paid, held = order(), order(status="paid"), order(status="on_hold")
    announced = order_facts(paid)
    assert derive_events(new, paid, frozenset()) == ["order.status_changed", "order.paid"]
    # When it goes on hold (the platform drops the payment) and back to paid
    assert derive_events(paid, held, announced) == ["order.status_changed"]
    # Then only the status change fires again, not a second order.paid
    assert derive_events(held, paid, announced) == ["order.status_changed"]
    # while without the memory the return to paid would look new
    assert derive_events(held, paid, frozenset()) == ["order.status_changed", "order.paid"]


def test_a_fact_not_yet_announced_fires_on_a_later_update_even_without_a_status_change() -> None:
    announced = frozenset({"paid"})
    before = order(status="paid", paid_at=PAID_AT)
    after = order(status="paid", paid_at=PAID_AT, shipped_at=SHIPPED_AT)
    assert derive_events(before, after, announced) == ["order.shipped"]
    assert derive_events(after, after, announced | {"shipped"}) == []


def test_the_facts_come_from_dates_as_well_as_status() -> None:
    assert order_facts(order()) == frozenset()
    assert order_facts(order(paid_at=PAID_AT)) == {"paid"}
    assert order_facts(order(status="shipped")) == {"shipped"}
    assert order_facts(order(status="completed", paid_at=PAID_AT, shipped_at=SHIPPED_AT)) == {"paid", "shipped"}
    assert order_facts(order(status="cancelled", paid_at=PAID_AT)) == {"paid", "cancelled"}
