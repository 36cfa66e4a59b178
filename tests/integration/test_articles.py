"""Article processes (WBS Factura): article.paid and article.invoiced, once per matching line item."""

from __future__ import annotations

import json

from regelwerk.store.rules import save_rule
from tests.conftest import order_event


def tasks(shop) -> list[str]:
    status, _, answer = shop.stack.invoke_http(
        "GET", "/v1/shops/demo/tasks", {"Authorization": f"Bearer {shop.admin_key}"}
    )
    assert status == 200
    return sorted(t["title"] for t in json.loads(answer)["tasks"] if t["title"].startswith("article."))


def roast(sku: str, kind: str = "article.paid") -> dict:
    return {
        "id": f"roast-{sku.lower()}-{kind.split('.')[1]}",
        "name": f"{kind} {sku}",
        "trigger": {"event": kind, "sku": sku},
        "actions": [{"type": "create_task", "title": kind + ": {{ event.quantity }} x {{ line_item.name }}"}],
    }


def test_article_paid_fires_once_per_matching_line_of_a_paid_order(demo_shop):
    save_rule("demo", roast("ESP-1000"))
    save_rule("demo", roast("NOT-SOLD"))
    status, answer = demo_shop.post(order_event(1))  # imported paid: ESP-1000 x 2 and MUG-01 x 4
    demo_shop.drain()
    assert (
        answer["rules_fired"].count("roast-esp-1000-paid") == 1 and "roast-not-sold-paid" not in answer["rules_fired"]
    )
    assert tasks(demo_shop) == ["article.paid: 2 x Espresso Morgenrot, 1 kg Bohnen"]
    run = demo_shop.run(answer["run_id"])
    article_events = [e for e in run["events"] if e["type"] == "article.paid"]
    assert len(article_events) == 2  # one per line item with a SKU
    # an unpaid order fires nothing; the retried event nothing again
    demo_shop.post(order_event(2))
    demo_shop.post(order_event(1))
    demo_shop.drain()
    assert len(tasks(demo_shop)) == 1


def test_article_invoiced_fires_for_the_invoiced_orders_lines(demo_shop):
    save_rule("demo", roast("MUG-01", "article.invoiced"))
    demo_shop.post(order_event(1))
    invoice = {
        "invoice": {
            "id": "in_1001",
            "number": "RE-1001",
            "order_id": "9007199254740993",
            "currency": "EUR",
            "amount": "149.90",
            "status": "open",
            "issued_at": "2026-11-23T10:00:00+01:00",
            "due_at": "2026-12-07T23:59:59+01:00",
        }
    }
    status, answer = demo_shop.post(invoice, path="/v1/shops/demo/invoices/events")
    demo_shop.drain()
    assert status == 202 and "roast-mug-01-invoiced" in answer["rules_fired"]
    assert "article.invoiced: 4 x Tasse „Guten Morgen“" in tasks(demo_shop)
