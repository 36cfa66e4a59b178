"""No personal data in the logs: the demo's events, delivered and failed alike, log ids, states and
reasons, never a customer's e-mail, phone, name or street."""

from __future__ import annotations

import json
import logging

from regelwerk.store.rules import save_rule
from tests.conftest import EVENTS

PERSONAL = []
for path in sorted(EVENTS.glob("*.json")):
    order = json.loads(path.read_text())["order"]
    customer = order.get("customer") or {}
    PERSONAL += [customer.get("email"), customer.get("phone"), customer.get("last_name")]
    for address in (order.get("billing_address"), order.get("shipping_address")):
        PERSONAL += [(address or {}).get("street"), (address or {}).get("name")]
PERSONAL = sorted({p.strip() for p in PERSONAL if p and len(p.strip()) > 3})


def test_the_demo_logs_no_personal_data(demo_shop, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="regelwerk")  # ours, at every level (botocore's own debug is not ours)
    # and an action that fails, so the failure paths log too
    save_rule(
        "demo",
        {
            "id": "broken-webhook",
            "name": "A webhook to nowhere",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "webhook", "url": "https://127.0.0.1:1/nowhere", "secret": {"env": "NO_SUCH_SECRET"}}],
        },
    )
    for path in sorted(EVENTS.glob("*.json")):
        demo_shop.post(path.read_bytes())
    demo_shop.drain()
    out = capsys.readouterr()
    logged = (
        out.out
        + out.err
        + "\n".join(
            r.getMessage() + json.dumps(r.__dict__, default=str)
            for r in caplog.records
            if r.name.startswith("regelwerk")
        )
    )
    assert len(logged) > 1000  # the demo did log
    found = [p for p in PERSONAL if p in logged]
    lines = [line[:300] for line in logged.splitlines() if any(p in line for p in found)][:5]
    assert not found, (found, lines)
