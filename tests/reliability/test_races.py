"""Concurrency: many events for one customer at once against a once-per-customer rule."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from regelwerk.ingest import receive as api
from regelwerk.store.rules import save_rule, save_template
from tests.conftest import order_event, sent_emails


@pytest.mark.slow
def test_fifty_concurrent_events_for_one_customer_send_exactly_one_message(demo_shop):
    # Given a once-per-customer rule
    save_template("demo", "first-contact", "en", {"subject": "Nice to meet you", "text": "Hello!"})
    save_rule(
        "demo",
        {
            "id": "first-contact",
            "name": "First contact",
            "trigger": {"event": "order.imported"},
            "limit": "once_per_customer",
            "actions": [{"type": "email", "template": "first-contact"}],
        },
    )
    bodies = []
    for i in range(50):
        body = order_event(2, id=f"race-{i}", number=f"R{i}") | {"event_id": f"race-{i}"}
        bodies.append(json.dumps(body).encode())

    def post(raw: bytes):
        return api.receive_event("demo", "regelwerk", {"Authorization": f"Bearer {demo_shop.key}"}, raw)

    # When 50 orders of the same customer arrive at the same time
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(post, bodies))
    demo_shop.drain()

    # Then every order was processed, and the limited rule fired for exactly one of them
    assert len({r.run_id for r in results}) == 50
    assert sum("first-contact" in r.fired for r in results) == 1
    welcome = [m for m in sent_emails() if m["Subject"] == "Nice to meet you"]
    assert len(welcome) == 1
    from regelwerk.store.customers import customer_from_item
    from regelwerk.store.tables import CustomerItem

    [item] = list(CustomerItem.query("demo"))
    customer = customer_from_item(item)
    assert customer.order_count == 50
    assert customer.total_spent == {"EUR": "1920.00"}  # 50 x 38.40, counted exactly


@pytest.mark.slow
def test_thirty_concurrent_events_against_the_shop_wide_marketing_limit_send_exactly_three(demo_shop):
    from regelwerk.store.shops import get_shop, save_shop

    shop = get_shop("demo")
    save_shop(shop.model_validate(shop.model_dump() | {"marketing_limit": {"max": 3, "per": "7d"}}))
    save_template("demo", "promo", "en", {"subject": "A promo", "text": "Hello!"})
    save_rule(
        "demo",
        {
            "id": "promo",
            "name": "Promo",
            "category": "marketing",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "email", "template": "promo"}],
        },
    )
    bodies = [
        json.dumps(order_event(2, id=f"cap-{i}", number=f"C{i}") | {"event_id": f"cap-{i}"}).encode() for i in range(30)
    ]

    def post(raw: bytes):
        return api.receive_event("demo", "regelwerk", {"Authorization": f"Bearer {demo_shop.key}"}, raw)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(post, bodies))
    demo_shop.drain()
    assert sum("promo" in r.fired for r in results) == 3
    assert len([m for m in sent_emails() if m["Subject"] == "A promo"]) == 3
