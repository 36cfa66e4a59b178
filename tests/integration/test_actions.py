"""The action catalog on the local stack: delays beyond 15 minutes (Scheduler), recheck, cancelling,
set_order_status chains and their loop limit, tasks, notify_owner and throttled providers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from regelwerk.store.rules import delete_rule, save_rule, save_template
from regelwerk_cli import clock
from tests.conftest import order_event, sent_emails, sent_sms

GROUP = "regelwerk-dev"

REVIEW = {
    "id": "review-check",
    "name": "Ask for a review a week after shipping, unless the order came back",
    "trigger": {"event": "order.shipped"},
    "actions": [{"type": "email", "template": "review", "delay": "7d", "recheck": True}],
    "when": {"all": [{"field": "order.status", "op": "ne", "value": "returned"}]},
}


def delayed_schedules() -> list[dict]:
    client = boto3.client("scheduler")
    listed = client.list_schedules(GroupName=GROUP, NamePrefix="rwd-")["Schedules"]
    return [client.get_schedule(GroupName=GROUP, Name=s["Name"]) for s in listed]


def invoke(stack):
    return lambda logical_id, event: stack.invoke(logical_id, event)


def ship(shop, **changes: Any) -> dict:
    """Import an order (demo event 1), then ship it (demo event 3); returns the shipping event's answer."""
    for n in (1, 3):
        event = order_event(n, **changes)
        event["event_id"] += "-" + changes.get("id", "")
        status, answer = shop.post(event)
        assert status in (200, 202), answer
        shop.drain()
    return answer


@pytest.fixture
def review(demo_shop):
    save_template("demo", "review", "de", {"subject": "Wie gefällt Ihnen {{ order.number }}?", "text": "Bewerten!"})
    delete_rule("demo", "review-request")  # the demo's own review rule: this test brings its own
    save_rule("demo", REVIEW)
    clock.move_to(datetime.now(UTC).replace(microsecond=0), invoke(demo_shop.stack))
    return demo_shop


def review_mails() -> list:
    return [m for m in sent_emails() if m["Subject"].startswith("Wie gefällt")]


def test_a_seven_day_delay_waits_on_a_one_time_schedule_until_the_clock_gets_there(review):
    before = datetime.now(UTC)
    answer = ship(review)
    run = review.run(answer["run_id"])
    [entry] = [d for d in run["deliveries"].values() if d["rule"] == "review-check"]
    assert entry["state"] == "delayed"
    due = datetime.fromisoformat(entry["until"])
    assert before + timedelta(days=7) - timedelta(seconds=2) <= due <= datetime.now(UTC) + timedelta(days=7)
    [schedule] = delayed_schedules()
    assert schedule["ScheduleExpression"] == f"at({due:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"].endswith("ActionsQueue")
    assert json.loads(schedule["Target"]["Input"])["delayed"] == entry_id(run, "review-check")
    assert review_mails() == []
    assert run["status"] == "in_progress"  # a delayed action keeps the run open

    _, fired = clock.advance("6d", invoke(review.stack))
    review.drain()
    assert fired == [] and review_mails() == []

    _, fired = clock.advance("25h", invoke(review.stack))  # the delay counts from the event, just after the clock
    assert [f.rule_id for f in fired] == ["delayed action"]
    review.drain()
    [mail] = review_mails()
    assert mail["Subject"] == "Wie gefällt Ihnen 1001?"
    run = review.run(answer["run_id"])
    entry = run["deliveries"][entry_id(run, "review-check")]
    assert entry["state"] == "sent"
    assert delayed_schedules() == []  # deleted after it ran

    # the same event again, and the clock past it again: nothing twice
    ship(review)
    clock.advance("8d", invoke(review.stack))
    review.drain()
    assert len(review_mails()) == 1


def entry_id(run: dict, rule: str) -> str:
    [aid] = [a for a, d in run["deliveries"].items() if d["rule"] == rule]
    return aid


def test_recheck_skips_the_review_when_the_order_came_back_meanwhile(review):
    answer = ship(review)
    returned = order_event(3, status="returned", updated_at="2026-11-25T10:00:00+01:00")
    returned["event_id"] = "returned-1001"
    assert review.post(returned)[0] == 202
    clock.advance("8d", invoke(review.stack))
    review.drain()
    assert review_mails() == []
    entry = review.run(answer["run_id"])["deliveries"][entry_id(review.run(answer["run_id"]), "review-check")]
    assert entry["state"] == "skipped"
    assert entry["reason"] == (
        "rechecked when due: conditions not met: order.status ne 'returned' was false (actual value: 'returned')"
    )


def test_disabling_the_rule_cancels_its_pending_actions_and_editing_keeps_them(review):
    first = ship(review)
    assert len(delayed_schedules()) == 1
    status, _ = review.admin("PUT", "/rules/review-check", REVIEW | {"name": "Review request (v2)"})
    assert status == 200
    assert len(delayed_schedules()) == 1  # an edit leaves planned actions on their version

    second = ship(review, id="77", number="1077")  # another order, planned by version 2
    assert len(delayed_schedules()) == 2
    status, _ = review.admin("POST", "/rules/review-check/disable")
    assert status == 200, _
    assert delayed_schedules() == []
    for answer in (first, second):
        run = review.run(answer["run_id"])
        entry = run["deliveries"][entry_id(run, "review-check")]
        assert entry["state"] == "cancelled"
        assert entry["reason"].startswith("the rule was disabled")
    clock.advance("8d", invoke(review.stack))
    review.drain()
    assert review_mails() == []


def test_an_edited_rule_sends_what_its_old_version_planned_and_says_so(review):
    answer = ship(review)
    save_rule("demo", REVIEW | {"name": "Review request, new wording"})
    clock.advance("8d", invoke(review.stack))
    review.drain()
    assert len(review_mails()) == 1
    run = review.run(answer["run_id"])
    entry = run["deliveries"][entry_id(run, "review-check")]
    assert entry["state"] == "sent"
    assert "planned by version 1 of the rule; the rule is now at version 2" in json.dumps(run)


HOLD = {
    "id": "hold-big-orders",
    "name": "Put orders over 100 EUR on hold",
    "trigger": {"event": "order.imported"},
    "when": {"all": [{"field": "order.total", "op": "gt", "value": 100}]},
    "actions": [{"type": "set_order_status", "status": "on_hold"}],
}
ON_HOLD = {
    "id": "check-held-orders",
    "name": "A task and an e-mail for held orders",
    "trigger": {"event": "order.status_changed", "to": "on_hold"},
    "actions": [
        {
            "type": "create_task",
            "title": "Prüfen: Bestellung {{ order.number }}",
            "body": "Summe {{ order.total | money }}",
            "due": "2d",
            "assignee": "lager",
        },
        {"type": "notify_owner", "template": "held"},
    ],
}


def test_a_status_change_fires_the_rules_waiting_for_it_and_makes_a_task(demo_shop):
    delete_rule("demo", "start-packing")  # the demo's own status rule: this test brings its own
    save_template("demo", "held", "de", {"subject": "Angehalten: {{ order.number }}", "text": "Bitte prüfen."})
    save_rule("demo", HOLD)
    save_rule("demo", ON_HOLD)
    status, answer = demo_shop.post(order_event(1))
    assert status == 202
    demo_shop.drain()

    run = demo_shop.run(answer["run_id"])
    hold = run["deliveries"][entry_id(run, "hold-big-orders")]
    assert hold["state"] == "done"
    assert hold["output"]["previous_status"] == "paid" and hold["output"]["status"] == "on_hold"
    chained = demo_shop.run(hold["output"]["run_id"])
    assert chained["platform"] == "rule"
    assert chained["caused_by"]["rule"] == "hold-big-orders" and chained["caused_by"]["depth"] == 1
    assert [e["type"] for e in chained["events"]] == ["order.status_changed"]
    assert {d["type"]: d["state"] for d in chained["deliveries"].values()} == {
        "create_task": "done",
        "notify_owner": "sent",
    }
    [owner_mail] = [m for m in sent_emails() if m["Subject"].startswith("Angehalten")]
    assert owner_mail["To"] == "inhaberin@morgenrot.example"

    status, listed = demo_shop.admin("GET", "/tasks?state=open")
    assert status == 200
    [task] = listed["tasks"]
    assert task["title"] == "Prüfen: Bestellung 1001"
    assert task["body"] == "Summe 149,90\xa0€"
    assert task["assignee"] == "lager" and task["order_number"] == "1001" and task["rule"] == "check-held-orders"
    status, done = demo_shop.admin("PATCH", f"/tasks/{task['id']}", {"state": "done"})
    assert (status, done["state"]) == (200, "done")
    assert demo_shop.admin("GET", "/tasks?state=open")[1]["tasks"] == []
    assert demo_shop.admin("PATCH", "/tasks/nope", {"state": "done"})[0] == 404
    assert demo_shop.admin("GET", "/tasks?state=later")[0] == 422

    # the shop's retry of the same event: no second status change, task or e-mail
    demo_shop.post(order_event(1))
    demo_shop.drain()
    assert len(demo_shop.admin("GET", "/tasks")[1]["tasks"]) == 1
    assert len([m for m in sent_emails() if m["Subject"].startswith("Angehalten")]) == 1


def test_rules_that_set_statuses_back_and_forth_stop_at_the_depth_limit(demo_shop):
    delete_rule("demo", "start-packing")
    save_rule("demo", HOLD)
    for a, b in (("on_hold", "review"), ("review", "on_hold")):
        save_rule(
            "demo",
            {
                "id": f"from-{a}",
                "name": f"{a} -> {b}",
                "trigger": {"event": "order.status_changed", "to": a},
                "actions": [{"type": "set_order_status", "status": b}],
            },
        )
    status, answer = demo_shop.post(order_event(1))
    assert status == 202
    demo_shop.drain()

    from regelwerk.store.runs import list_runs

    runs = list_runs("demo")
    chained = [r for r in runs if r.get("caused_by")]
    assert sorted(r["caused_by"]["depth"] for r in chained) == [1, 2, 3, 4, 5]
    stopped = [d for r in runs for d in r["deliveries"].values() if d["state"] == "stopped"]
    [last] = stopped
    assert last["reason"].startswith("loop stopped: this would be the 6th status change in a row made by rules")


def test_notify_owner_by_sms(demo_shop):
    save_template("demo", "owner-sms", "de", {"text": "Neue Bestellung {{ order.number }}"})
    save_rule(
        "demo",
        {
            "id": "sms-owner",
            "name": "SMS the owner",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "notify_owner", "via": "sms", "template": "owner-sms"}],
        },
    )
    demo_shop.post(order_event(2))
    demo_shop.drain()
    assert [(number, text) for number, text, *_ in sent_sms()] == [("+4915123456789", "Neue Bestellung 1002")]


def test_a_throttled_email_is_put_back_and_sent_once(demo_shop, monkeypatch):
    from regelwerk import clients
    from regelwerk.delivery import dispatch as delivery

    delete_rule("demo", "invoice-unpaid-orders")  # one e-mail to John: the thank-you
    monkeypatch.setattr(delivery, "THROTTLE_PAUSE_SECONDS", 0)
    client = clients.client("sesv2", adaptive=True)
    real = client.send_email
    calls = {"n": 0}

    def throttled_twice(**kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ClientError(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."}},
                "SendEmail",
            )
        return real(**kwargs)

    monkeypatch.setattr(client, "send_email", throttled_twice)
    status, answer = demo_shop.post(order_event(2))
    assert status == 202
    demo_shop.drain()
    run = demo_shop.run(answer["run_id"])
    states = {d["type"]: d["state"] for d in run["deliveries"].values() if d["type"] == "email"}
    assert states == {"email": "sent"}
    mails = [m for m in sent_emails() if m["To"] == "john.smith@example.co.uk"]
    assert len(mails) == 1
    assert calls["n"] == 3
    assert demo_shop.stack.dead_letters().get("MailDeadLetterQueue", []) == []


def test_the_demo_webhook_reaches_the_receiver_signed_and_the_action_id_as_delivery(demo_shop):
    receiver = demo_shop.stack.receiver
    if receiver is None:
        pytest.skip("another local stack holds the receiver's port")
    receiver.received.clear()
    status, answer = demo_shop.post(order_event(1))
    demo_shop.drain()
    [hook] = [h for h in receiver.received if (h["body"].get("order") or {}).get("number") == "1001"]
    assert hook["signature_valid"] is True
    assert hook["path"] == "/erp/orders"
    assert hook["body"]["type"] == "order.status_changed" and hook["body"]["order"]["status"] == "in_packing"
    assert hook["delivery"] == hook["body"]["id"] and hook["delivery"].endswith(":packing-task:1")
    assert "raw" not in hook["body"]["event"]


def test_a_webhook_to_the_metadata_address_is_refused_and_its_neighbours_go_out(demo_shop):
    save_rule(
        "demo",
        {
            "id": "steal-credentials",
            "name": "A webhook aimed at the cloud metadata service",
            "trigger": {"event": "order.imported"},
            "mode": "parallel",
            "actions": [
                {
                    "type": "webhook",
                    "url": "http://169.254.169.254/latest/meta-data/",
                    "secret": {"env": "DEMO_WEBHOOK_SECRET"},
                },
                {"type": "create_task", "title": "still made"},
            ],
        },
    )
    status, answer = demo_shop.post(order_event(2))
    demo_shop.drain()
    run = demo_shop.run(answer["run_id"])
    states = {aid.rsplit(":", 2)[-2:][1]: d for aid, d in run["deliveries"].items() if d["rule"] == "steal-credentials"}
    assert states["0"]["state"] == "dead_lettered"
    assert states["0"]["reason"].startswith("webhook refused")
    assert states["1"]["state"] == "done"
    assert run["status"] == "dead_lettered"
    [dead] = demo_shop.stack.dead_letters()["ActionsDeadLetterQueue"]
    assert dead["action"]["url"] == "http://169.254.169.254/latest/meta-data/"


def test_an_export_is_written_to_s3_and_mailed_as_attachment(demo_shop):
    save_template("demo", "export-mail", "de", {"subject": "Export", "text": "{{ outputs.orders_csv.rows }} Zeilen"})
    save_rule(
        "demo",
        {
            "id": "export-on-order",
            "name": "Export all orders and mail them to the owner",
            "trigger": {"event": "order.imported"},
            "when": {"all": [{"field": "order.number", "op": "eq", "value": "1002"}]},
            "actions": [
                {"type": "export", "of": "orders", "window": "all", "as": "orders_csv"},
                {"type": "notify_owner", "template": "export-mail", "attach": ["orders_csv"]},
            ],
        },
    )
    demo_shop.post(order_event(1))
    demo_shop.drain()
    status, answer = demo_shop.post(order_event(2))
    demo_shop.drain()
    run = demo_shop.run(answer["run_id"])
    export = next(d for d in run["deliveries"].values() if d["type"] == "export")
    assert export["state"] == "sent" and export["output"]["rows"] == 2
    [mail] = [m for m in sent_emails() if m["Subject"] == "Export"]
    assert mail.get_body(preferencelist=("plain",)).get_content().strip() == "2 Zeilen"
    [attachment] = list(mail.iter_attachments())
    text = attachment.get_content()
    text = text.decode("utf-8-sig") if isinstance(text, bytes) else text.lstrip("\ufeff")
    assert "1001" in text and "1002" in text and "149.90" in text


def test_a_status_change_planned_before_a_newer_shop_update_is_not_made(demo_shop):
    demo_shop.post(order_event(1))  # start-packing plans in_packing ...
    demo_shop.post(order_event(3))  # ... but the shop ships the order before the actions queue runs
    demo_shop.drain()
    from regelwerk.store.runs import list_runs
    from regelwerk.store.tables import OrderItem

    assert OrderItem.get("demo", "9007199254740993").status == "shipped"
    [entry] = [d for r in list_runs("demo") for d in r["deliveries"].values() if d["rule"] == "start-packing"]
    assert entry["state"] == "skipped"
    assert entry["reason"] == "not changed: the order was updated after this rule fired (it is now shipped)"


def test_the_task_list_pages_to_its_end_with_its_own_tokens_and_refuses_a_forged_one(demo_shop):
    import json as _json

    from regelwerk.store.tables import TaskItem

    # Given three tasks of the shop
    for n in range(3):
        TaskItem("demo", f"20261128T10000{n}-task{n}", document=_json.dumps({"title": f"Task {n}"})).save()
    # When the list is read one task a page, following each answer's next token
    seen, token = [], None
    for _ in range(5):
        status, page = demo_shop.admin("GET", "/tasks?limit=1" + (f"&next={token}" if token else ""))
        assert status == 200, page
        seen += [t["title"] for t in page["tasks"]]
        token = page["next"]
        if token is None:
            break
    # Then every task comes once, newest first, and the list ends
    assert seen == ["Task 2", "Task 1", "Task 0"] and token is None
    # and a token the API did not give out is refused
    status, answer = demo_shop.admin("GET", "/tasks?limit=1&next=eyJzaG9wX2lkIjoiZGVtbyJ9.00")
    assert status == 400 and answer["error"] == "malformed_body"
