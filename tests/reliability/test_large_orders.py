"""Any order within the body limit works: 1 to 1,000 lines, every action delivered, every status change applied."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from regelwerk.store.tables import OrderItem
from tests.conftest import order_event, sent_emails

LIMIT = 256 * 1024


def big_order(lines: int, **changes) -> dict:
    items = [
        {
            "sku": f"SKU-{i:05d}-{'X' * 40}",
            "name": f"Artikel Nummer {i} mit einem ausführlichen Namen, wie Shops ihn schreiben",
            "quantity": 1,
            "unit_price": "1.00",
            "tax_rate": "19",
        }
        for i in range(lines)
    ]
    total = str(Decimal(lines) + Decimal("4.90"))
    body = order_event(1, id=f"big-{lines}", number=f"B{lines}", total=total, subtotal=None, line_items=items)
    body["order"] |= changes
    body["event_id"] = f"big-{lines}-{changes.get('status', 'paid')}"
    return body


@pytest.mark.slow
@pytest.mark.parametrize("lines", [1, 100, 600, 1000])
def test_an_order_of_any_size_within_the_limit_is_delivered_and_updated(demo_shop, lines):
    body = big_order(lines)
    raw = json.dumps(body).encode()
    assert len(raw) <= LIMIT, len(raw)
    status, answer = demo_shop.post(raw)
    assert status == 202, answer
    demo_shop.drain()
    run = demo_shop.run(answer["run_id"])
    assert run["status"] == "completed", {k: v.get("reason") for k, v in run["deliveries"].items()}
    assert any(m["Subject"] == f"Danke für Ihre Bestellung B{lines}" for m in sent_emails())

    shipped = big_order(
        lines, status="shipped", updated_at="2026-11-24T14:40:00+01:00", shipped_at="2026-11-24T14:40:00+01:00"
    )
    status, answer = demo_shop.post(json.dumps(shipped).encode())
    assert status == 202, answer
    demo_shop.drain()
    assert "order.shipped" in answer["events"]
    assert OrderItem.get("demo", f"big-{lines}").status == "shipped"
    run = demo_shop.run(answer["run_id"])
    states = {d["rule"]: (d["state"], d.get("reason")) for d in run["deliveries"].values()}
    # the review request waits its 7 days; everything else went out
    assert states.pop("review-request")[0] in ("delayed", "waiting"), states
    assert all(state in ("sent", "done", "completed") for state, _ in states.values()), states
