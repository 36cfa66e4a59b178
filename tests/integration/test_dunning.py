"""Payment reminder, first dunning and final notice on the right days, with the local clock."""

from __future__ import annotations

import boto3
import pytest

from regelwerk.store.rules import save_rule, save_template
from regelwerk.store.schedules import shop_job_name
from regelwerk.store.shops import get_shop, save_shop
from regelwerk_cli import clock
from tests.conftest import sent_emails

GROUP = "regelwerk-dev"
LEVELS = {
    "levels": [
        {"level": 1, "after_days": 3, "name": "payment_reminder"},
        {"level": 2, "after_days": 14, "name": "first_dunning", "fee": "5.00"},
        {"level": 3, "after_days": 28, "name": "final_notice", "fee": "10.00"},
    ],
    "run_at": "07:00",
}
DUNNING_RULE = {
    "id": "dunning",
    "name": "Remind, then dun: one rule for every level",
    "trigger": {"event": "invoice.overdue"},
    "mode": "sequential",
    "actions": [
        {"type": "pdf", "document": "dunning_letter", "as": "letter"},
        {"type": "email", "template": "dunning", "to": "owner", "attach": ["letter"]},
    ],
}


def invoice(n: int, **changes) -> dict:
    body = {
        "id": f"in_{n}",
        "number": f"RE-2026-{n:04d}",
        "currency": "EUR",
        "amount": "149.90",
        "status": "open",
        "issued_at": "2026-11-01T10:00:00+01:00",
        "due_at": "2026-11-15T23:59:59+01:00",  # a 14-day term
    }
    return {"event_id": f"{n}-{changes.get('status', 'open')}", "invoice": body | changes}


def post_invoice(shop, body) -> dict:
    status, answer = shop.post(body, path="/v1/shops/demo/invoices/events")
    assert status in (200, 202), answer
    return answer


@pytest.fixture
def dunning_shop(demo_shop):
    save_shop(
        get_shop("demo").model_copy(
            update={"dunning": get_shop("demo").model_validate({"id": "x", "name": "x", "dunning": LEVELS}).dunning}
        )
    )
    save_template(
        "demo",
        "dunning",
        "de",
        {"subject": "Stufe {{ dunning.level }}: {{ invoice.number }}", "text": "Gebühr {{ dunning.fee }}"},
    )
    save_rule("demo", DUNNING_RULE)
    clock.move_to(clock.parse_time("2026-11-15T12:00+01:00"), demo_shop.stack.invoke)
    return demo_shop


def advance(shop, step: str) -> list:
    _, fired = clock.advance(step, shop.stack.invoke)
    shop.drain()
    return fired


def letters() -> list[tuple[str, list[str]]]:
    return [(m["Subject"], [a.get_filename() for a in m.iter_attachments()]) for m in sent_emails()]


def test_saving_dunning_levels_schedules_the_daily_scan_in_the_shop_time_zone(dunning_shop):
    spec = boto3.client("scheduler").get_schedule(GroupName=GROUP, Name=shop_job_name("demo"))
    assert spec["ScheduleExpression"] == "cron(0 7 * * ? *)"
    assert spec["ScheduleExpressionTimezone"] == "Europe/Berlin"
    save_shop(get_shop("demo").model_copy(update={"dunning": None}))
    with pytest.raises(boto3.client("scheduler").exceptions.ResourceNotFoundException):
        boto3.client("scheduler").get_schedule(GroupName=GROUP, Name=shop_job_name("demo"))


def test_reminder_first_dunning_and_final_notice_come_on_their_days_and_stop_when_paid(dunning_shop):
    post_invoice(dunning_shop, invoice(1))
    post_invoice(dunning_shop, invoice(2))

    advance(dunning_shop, "2d")  # 17 Nov: 2 days late
    assert letters() == []
    fired = advance(dunning_shop, "1d")  # 18 Nov 07:00: 3 days late
    assert [f.rule_id for f in fired] == ["overdue_scan"]
    assert sorted(letters()) == [
        ("Stufe 1: RE-2026-0001", ["Mahnung-1-RE-2026-0001.pdf"]),
        ("Stufe 1: RE-2026-0002", ["Mahnung-1-RE-2026-0002.pdf"]),
    ]
    assert len(letters()) == 2

    post_invoice(dunning_shop, invoice(2, status="paid", paid_at="2026-11-20T09:00:00+01:00"))
    advance(dunning_shop, "10d")  # 28 Nov: 13 days late, nothing new
    assert len(letters()) == 2
    advance(dunning_shop, "1d")  # 29 Nov: 14 days late -> first dunning for invoice 1 only
    assert letters()[2:] == [("Stufe 2: RE-2026-0001", ["Mahnung-2-RE-2026-0001.pdf"])]
    assert "Gebühr 5.00" in sent_emails()[2].get_body(("plain",)).get_content()
    advance(dunning_shop, "13d")  # 12 Dec: 27 days late
    assert len(letters()) == 3
    advance(dunning_shop, "1d")  # 13 Dec: 28 days late -> final notice
    assert letters()[3:] == [("Stufe 3: RE-2026-0001", ["Mahnung-3-RE-2026-0001.pdf"])]
    advance(dunning_shop, "7d")  # nothing after the last level
    assert len(letters()) == 4

    # every step once, whatever the scans: the same slots played again change nothing
    clock.move_to(clock.parse_time("2026-11-15T12:00+01:00"), dunning_shop.stack.invoke)
    advance(dunning_shop, "30d")
    assert len(letters()) == 4


def test_an_invoice_found_a_month_late_gets_the_final_notice_not_three_letters(dunning_shop):
    post_invoice(dunning_shop, invoice(3, due_at="2026-10-01T23:59:59+02:00"))
    advance(dunning_shop, "1d")
    assert [s for s, _ in letters()] == ["Stufe 3: RE-2026-0003"]


def test_a_reminder_queued_before_the_payment_arrived_is_not_sent(dunning_shop):
    post_invoice(dunning_shop, invoice(4))
    clock.advance("3d", dunning_shop.stack.invoke)  # the scan fans the invoice out ...
    dunning_shop.stack.poll_once()  # ... the actions queue emits invoice.overdue and queues the letter ...
    post_invoice(dunning_shop, invoice(4, status="paid", paid_at="2026-11-18T07:30:00+01:00"))  # ... then: paid
    dunning_shop.drain()
    assert letters() == []
    from regelwerk.store.runs import list_runs

    skipped = [d for r in list_runs("demo") for d in r["deliveries"].values() if d.get("state") == "skipped"]
    assert skipped and skipped[0]["reason"] == "not sent: the invoice is paid now (checked when sending)"


def test_the_letters_say_what_is_due_with_the_fee(dunning_shop):
    import io

    from pypdf import PdfReader

    post_invoice(dunning_shop, invoice(5))
    advance(dunning_shop, "14d")  # 29 Nov: the first dunning, with its 5.00 fee
    [mail] = [m for m in sent_emails() if m["Subject"] == "Stufe 2: RE-2026-0005"]
    [pdf] = list(mail.iter_attachments())
    text = PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
    assert "1. Mahnung" in text and "RE-2026-0005" in text
    assert "5,00" in text and "154,90" in text  # 149.90 open + 5.00 fee
