"""Frequency limits: per rule (once per customer per 24 h) and shop-wide for marketing messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from regelwerk.ingest.orders import process_order
from regelwerk.model.order import Order
from regelwerk.store.rules import save_rule, save_template
from regelwerk.store.shops import get_shop, save_shop
from tests.conftest import order_event, sent_emails


def newsletter(rule_id: str, **extra) -> dict:
    return {
        "id": rule_id,
        "name": f"Newsletter {rule_id}",
        "category": "marketing",
        "trigger": {"event": "order.imported"},
        "actions": [{"type": "email", "template": "promo", "to": "customer"}],
    } | extra


def promos() -> list[str]:
    return [m["Subject"] for m in sent_emails() if m["Subject"].startswith("Angebot")]


@pytest.mark.slow
def test_once_per_customer_per_24h_sends_one_for_three_events_in_an_hour_and_another_a_day_later(demo_shop):
    save_template("demo", "promo", "de", {"subject": "Angebot {{ order.number }}", "text": "x"})
    save_rule("demo", newsletter("daily", limit={"once_per_customer_per": "24h"}))
    for n, number in enumerate(("2001", "2002", "2003")):
        demo_shop.post(order_event(1, id=number, number=number) | {"event_id": f"e{n}"})
    demo_shop.drain()
    assert promos() == ["Angebot 2001"]

    later = datetime.now(UTC) + timedelta(hours=25)
    order = Order.model_validate(order_event(1, id="2004", number="2004")["order"])
    result = process_order(get_shop("demo"), order, event_id="a-day-later", received_at=later)
    demo_shop.drain()
    assert "daily" in result.fired
    assert promos() == ["Angebot 2001", "Angebot 2004"]


def test_the_shop_wide_marketing_limit_holds_back_what_exceeds_it_and_spares_transactional_mail(demo_shop):
    shop = get_shop("demo")
    save_shop(shop.model_validate(shop.model_dump() | {"marketing_limit": {"max": 2, "per": "7d"}}))
    save_template("demo", "promo", "de", {"subject": "Angebot {{ order.number }}", "text": "x"})
    for rule_id in ("promo-a", "promo-b", "promo-c"):
        save_rule("demo", newsletter(rule_id))

    status, answer = demo_shop.post(order_event(1))
    demo_shop.drain()
    assert status == 202
    assert [r for r in answer["rules_fired"] if r.startswith("promo")] == ["promo-a", "promo-b"]
    run = demo_shop.run(answer["run_id"])
    held = {r["rule"]: r for r in run["events"][0]["rules"]}["promo-c"]
    assert held["reason"] == "suppressed: at most 2 marketing messages per customer per 7d"
    assert held["limit"] == "shop-wide marketing limit reached: 0 of 2 per 7d"
    assert len(promos()) == 2

    status, answer = demo_shop.post(order_event(5))  # the same customer, the same week
    demo_shop.drain()
    assert not [r for r in answer["rules_fired"] if r.startswith("promo")]
    assert "thank-you" in answer["rules_fired"]  # transactional: never counted, never held back
    assert len(promos()) == 2
    assert any(m["Subject"] == "Danke für Ihre Bestellung 1003" for m in sent_emails())

    # another customer has a limit of their own
    status, answer = demo_shop.post(order_event(2))
    demo_shop.drain()
    assert [r for r in answer["rules_fired"] if r.startswith("promo")] == ["promo-a", "promo-b"]
