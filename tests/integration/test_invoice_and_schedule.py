"""invoice-status and schedule functions through their real handlers."""

from __future__ import annotations

from regelwerk.store.rules import save_rule, save_template
from tests.conftest import sent_emails

INVOICE = {
    "event_id": "inv-2026-0042-sent",
    "invoice": {
        "id": "in_42",
        "number": "RE-2026-0042",
        "currency": "EUR",
        "amount": "119.00",
        "status": "open",
        "issued_at": "2026-11-20T10:00:00+01:00",
        "due_at": "2026-12-04T23:59:59+01:00",
    },
}


def test_invoice_sent_and_paid_fire_their_rules_once(demo_shop):
    save_template(
        "demo",
        "invoice-paid",
        "de",
        {"subject": "Zahlung für {{ invoice.number }} erhalten", "text": "Betrag: {{ invoice.amount | money }}"},
    )
    save_rule(
        "demo",
        {
            "id": "thanks-for-paying",
            "name": "Thanks for paying",
            "trigger": {"event": "invoice.paid"},
            "actions": [{"type": "email", "template": "invoice-paid", "to": "owner"}],
        },
    )
    path = "/v1/shops/demo/invoices/events"
    status, sent = demo_shop.post(INVOICE, path=path)
    assert status == 202 and sent["events"] == ["invoice.sent"] and sent["rules_fired"] == []
    paid = {
        "event_id": "inv-42-paid",
        "invoice": INVOICE["invoice"] | {"status": "paid", "paid_at": "2026-11-25T09:00:00+01:00"},
    }
    status, answer = demo_shop.post(paid, path=path)
    assert answer["events"] == ["invoice.paid"] and answer["rules_fired"] == ["thanks-for-paying"]
    assert demo_shop.post(paid, path=path)[1]["duplicate"] is True
    demo_shop.drain()
    [mail] = sent_emails()
    assert mail["To"] == "inhaberin@morgenrot.example"
    assert mail["Subject"] == "Zahlung für RE-2026-0042 erhalten"
    assert "119,00" in mail.get_body(("plain",)).get_content()


def test_incomplete_invoice_is_422_naming_the_missing_field(demo_shop):
    body = {"invoice": {k: v for k, v in INVOICE["invoice"].items() if k != "due_at"}}
    status, answer = demo_shop.post(body, path="/v1/shops/demo/invoices/events")
    assert status == 422
    assert answer["problems"] == [{"path": "$.invoice.due_at", "reason": "required field is missing"}]


def test_scheduled_rule_runs_once_per_slot(demo_shop):
    save_template(
        "demo", "monthly", "de", {"subject": "Monatsbericht {{ event.schedule_slot[:7] }}", "text": "Guten Morgen!"}
    )
    save_rule(
        "demo",
        {
            "id": "monthly-report",
            "name": "Monthly report",
            "trigger": {"event": "schedule", "cron": "0 8 1 * *", "time_zone": "Europe/Berlin"},
            "actions": [{"type": "email", "template": "monthly", "to": "owner"}],
        },
    )
    event = {"shop_id": "demo", "rule_id": "monthly-report", "scheduled_time": "2026-12-01T07:00:00Z"}
    first = demo_shop.stack.invoke("ScheduleFunction", event)
    again = demo_shop.stack.invoke("ScheduleFunction", event)  # Scheduler retried the same slot
    demo_shop.drain()
    assert first["rules_fired"] == ["monthly-report"] and again["duplicate"] is True
    [mail] = sent_emails()
    assert mail["Subject"] == "Monatsbericht 2026-12"
