"""Faults AWS really has: duplicate SQS deliveries, a handler dying mid-send, a poison message in a batch."""

from __future__ import annotations

import json

import boto3
import pytest

from regelwerk.store.rules import save_rule, save_template
from tests.conftest import order_event, sent_emails


def _queue_url(stack, logical: str) -> str:
    return stack.resources.queues[logical]["url"]


def _mail_messages_in_flight(stack) -> list[dict]:
    """Take the queued mail messages off the queue (as a consumer would receive them)."""
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=_queue_url(stack, "MailQueue"), MaxNumberOfMessages=10, VisibilityTimeout=0)[
        "Messages"
    ]
    for m in got:
        sqs.delete_message(QueueUrl=_queue_url(stack, "MailQueue"), ReceiptHandle=m["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in got]


def test_every_message_delivered_three_times_sends_each_email_once(demo_shop):
    # Given the queued actions of two orders
    demo_shop.post(order_event(1))
    demo_shop.post(order_event(2))
    messages = _mail_messages_in_flight(demo_shop.stack)
    assert len(messages) == 2  # thank-you x2 (the invoice e-mail waits for its PDF)
    # When SQS delivers each of them three times
    sqs = boto3.client("sqs")
    for body in messages * 3:
        sqs.send_message(QueueUrl=_queue_url(demo_shop.stack, "MailQueue"), MessageBody=json.dumps(body))
    demo_shop.drain()
    # Then each customer got each e-mail exactly once (plus the invoice e-mail after its PDF)
    subjects = sorted(m["Subject"] for m in sent_emails())
    assert subjects == [
        "Danke für Ihre Bestellung 1001",
        "Ihre Rechnung zur Bestellung 1001",
        "Thank you for your order 1002",
    ]


def test_crash_after_provider_accepted_is_not_sent_again(demo_shop, monkeypatch):
    """The handler dies after SES accepted the e-mail but before recording it: no duplicate."""
    from regelwerk.delivery import ledger as delivery

    demo_shop.post(order_event(2))
    real_update = delivery.LedgerItem.update
    calls = {"n": 0}

    def crash_on_sent(self, actions, *args, **kwargs):
        calls["n"] += 1
        raise RuntimeError("Lambda timed out")  # the 'sent' record never lands

    monkeypatch.setattr(delivery.LedgerItem, "update", crash_on_sent)
    demo_shop.stack.poll_once()  # SES accepts, then the function dies; the message stays on the queue
    monkeypatch.setattr(delivery.LedgerItem, "update", real_update)
    assert len(sent_emails()) == 1
    # While the lease of the dead attempt runs, a redelivery waits; once it expired, it is not sent again
    monkeypatch.setattr(delivery.time, "time", lambda: 10**10)
    demo_shop.drain()
    assert len(sent_emails()) == 1
    run = demo_shop.run(demo_shop.post(order_event(2))[1]["run_id"])
    [entry] = run["deliveries"].values()
    assert entry["state"] == "unconfirmed"
    assert "not sent again to avoid a duplicate" in entry["reason"]
    assert run["status"] == "failed"


def test_broken_template_fails_only_its_action_and_ends_in_the_dlq(demo_shop):
    # Given a rule whose template breaks at render time next to the working thank-you rule
    save_template("demo", "broken", "de", {"subject": "Hallo {{ order.nope.deeper }}", "text": "x"})
    save_rule(
        "demo",
        {
            "id": "broken-rule",
            "name": "Broken",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "email", "template": "broken"}],
        },
    )
    _, answer = demo_shop.post(order_event(1))
    demo_shop.drain()
    # Then the thank-you and invoice went out, and the broken one is dead-lettered with its reason
    assert len(sent_emails()) == 2
    run = demo_shop.run(answer["run_id"])
    broken = next(d for a, d in run["deliveries"].items() if ":broken-rule:" in a)
    assert broken["state"] == "dead_lettered"
    assert broken["attempts"] == 5
    assert "template part 'subject' failed to render" in broken["reason"]
    assert run["status"] == "dead_lettered"
    dead = demo_shop.stack.dead_letters()
    assert [m["rule_id"] for m in dead["MailDeadLetterQueue"]] == ["broken-rule"]


def test_poison_message_in_a_batch_of_ten_leaves_the_other_nine_delivered_once(demo_shop):
    sqs = boto3.client("sqs")
    demo_shop.post(order_event(2))
    [good] = _mail_messages_in_flight(demo_shop.stack)
    batch = []
    for i in range(9):
        body = json.loads(json.dumps(good))
        body["action_id"] = f"{good['action_id']}-copy{i}"
        batch.append(body)
    poison = json.loads(json.dumps(good)) | {"action_id": "poison", "action": {"type": "email", "template": "nope"}}
    batch.insert(4, poison)
    sqs.send_message_batch(
        QueueUrl=_queue_url(demo_shop.stack, "MailQueue"),
        Entries=[{"Id": str(i), "MessageBody": json.dumps(b)} for i, b in enumerate(batch)],
    )
    demo_shop.drain()
    assert len(sent_emails()) == 9
    dead = demo_shop.stack.dead_letters()["MailDeadLetterQueue"]
    assert [m["action_id"] for m in dead] == ["poison"]


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ self.__init__.__globals__ }}",
        "{% for i in range(10**9) %}x{% endfor %}",
    ],
)
def test_template_injection_is_blocked_and_dead_lettered(demo_shop, payload):
    save_template("demo", "evil", "de", {"subject": "Hi", "text": payload})
    save_rule(
        "demo",
        {
            "id": "evil",
            "name": "Evil",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "email", "template": "evil"}],
        },
    )
    _, answer = demo_shop.post(order_event(1))
    demo_shop.drain()
    run = demo_shop.run(answer["run_id"])
    evil = next(d for a, d in run["deliveries"].items() if ":evil:" in a)
    assert evil["state"] == "dead_lettered"
    assert all("uid=" not in (m.get_body(("plain",)).get_content()) for m in sent_emails())


@pytest.mark.slow
def test_a_thousand_events_each_retried_by_the_shop_and_each_message_delivered_three_times_send_one_email_each(
    fresh,
):
    """At scale: 1,000 orders, every webhook sent twice by the shop, every SQS message delivered three times."""
    from regelwerk.ingest import receive as api
    from regelwerk.model.shop import Shop
    from regelwerk.store.rules import save_rule, save_template
    from regelwerk.store.shops import create_key, save_shop

    save_shop(Shop.model_validate({"id": "bulk", "name": "Bulk", "sender": {"email": "shop@bulk.example"}}))
    fresh.verify_sender("shop@bulk.example")
    save_template("bulk", "thanks", "en", {"subject": "Thanks {{ order.number }}", "text": "x"})
    save_rule(
        "bulk",
        {
            "id": "thanks",
            "name": "Thanks",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "email", "template": "thanks"}],
        },
    )
    key = create_key("bulk", "ingest")
    n = 1000
    for i in range(n):
        body = order_event(2, id=f"b{i}", number=f"B{i}") | {"event_id": f"bulk-{i}"}
        body["order"]["customer"] = body["order"]["customer"] | {"email": f"buyer{i}@example.com"}
        raw = json.dumps(body).encode()
        for _ in range(2):  # the shop retries every webhook
            api.receive_event("bulk", "regelwerk", {"Authorization": f"Bearer {key}"}, raw)
    sqs = boto3.client("sqs")
    url = _queue_url(fresh, "MailQueue")
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )
    assert len(bodies) == n  # the shop's retries queued nothing twice
    copies = bodies * 3  # SQS delivers each message three times
    for start in range(0, len(copies), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(copies[start : start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    fresh.drain(max_rounds=2000)
    sent = [m["To"] for m in sent_emails() if m["Subject"].startswith("Thanks B")]
    assert len(sent) == n and len(set(sent)) == n


def test_messages_queued_by_the_previous_version_are_delivered_once_by_this_one(demo_shop):
    """A deployment lands while messages wait on the queues: they were written before the typed contracts."""
    from tests import FIXTURES

    v1 = json.loads((FIXTURES / "messages" / "v1.json").read_text())
    sqs = boto3.client("sqs")
    # Given the thank-you e-mail as the previous version queued it, delivered twice by SQS
    for _ in range(2):
        sqs.send_message(QueueUrl=_queue_url(demo_shop.stack, "MailQueue"), MessageBody=json.dumps(v1["email"]))
    # When this version's mail handler drains the queue
    demo_shop.drain()
    # Then the customer got it once, in the message's language, with its action id
    mails = sent_emails()
    assert len(mails) == 1
    assert mails[0]["To"] == v1["email"]["context"]["customer"]["email"]
    assert "".join(str(mails[0]["X-Regelwerk-Action"]).split()) == v1["email"]["action_id"]
    assert demo_shop.stack.dead_letters().get("MailDeadLetterQueue", []) == []
