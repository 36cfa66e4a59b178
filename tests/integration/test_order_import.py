"""order-import end to end: a shop's order event in, the customer's e-mail out, the run log explaining it."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from regelwerk.store.customers import customer_from_item
from regelwerk.store.tables import CustomerItem, OrderItem, RunItem
from tests.conftest import EVENTS, order_event, sent_emails, sent_sms


def test_health_answers_200(stack):
    status, _, body = stack.invoke_http("GET", "/v1/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_paid_german_order_gets_thank_you_and_invoice_with_pdf_attached(demo_shop):
    # Given the demo shop, when a paid German order over 100 EUR arrives
    status, answer = demo_shop.post((EVENTS / "01-order-anna-paid.json").read_bytes())
    assert status == 202
    assert answer["events"] == ["order.imported", "order.paid"]  # it arrives paid: both, once
    assert answer["rules_fired"] == ["invoice-paid-orders", "start-packing", "thank-you"]
    demo_shop.drain()

    # Then Anna gets a German thank-you and the invoice e-mail, which carries the PDF the rule made first
    mails = {m["Subject"]: m for m in sent_emails()}
    assert set(mails) == {"Danke für Ihre Bestellung 1001", "Ihre Rechnung zur Bestellung 1001"}
    thanks = mails["Danke für Ihre Bestellung 1001"]
    assert thanks["To"] == "anna.mueller@example.de"
    assert thanks["Content-Language"] == "de"
    assert "149,90\xa0€" in thanks.get_body(("plain",)).get_content()  # Babel: no-break space before €
    invoice = mails["Ihre Rechnung zur Bestellung 1001"]
    attachments = list(invoice.iter_attachments())
    # named by the invoice's own number: the first of the shop's sequence this year, not RE-<order number>
    assert [a.get_filename() for a in attachments] == [
        f"Rechnung-RE-{datetime.now(ZoneInfo('Europe/Berlin')):%Y}-00001.pdf"
    ]
    assert attachments[0].get_content().startswith(b"%PDF")

    # And the run log says why each rule fired or not, and that every action was sent
    run = demo_shop.run(answer["run_id"])
    assert run["status"] == "completed"
    rules = {r["rule"]: r for r in run["events"][0]["rules"]}
    assert rules["big-order-alert"]["fired"] is False
    assert "order.total gt 500 was false (actual value: 149.90)" in rules["big-order-alert"]["reason"]
    assert rules["shipped"]["reason"].startswith("trigger did not match")
    leaf = rules["invoice-paid-orders"]["conditions"]["all"][2]
    assert leaf == {"field": "order.total", "op": "gt", "value": 100, "actual": "149.90", "result": True}
    assert {d["state"] for d in run["deliveries"].values()} == {"sent", "done"}  # done: start-packing


def test_english_customer_gets_english_mail_and_no_invoice_when_unpaid(demo_shop):
    status, answer = demo_shop.post((EVENTS / "02-order-john-unpaid.json").read_bytes())
    demo_shop.drain()
    assert status == 202
    [mail] = sent_emails()
    assert mail["Subject"] == "Thank you for your order 1002"
    assert "£" not in mail.get_body(("plain",)).get_content()  # money stays in the order's currency (EUR)
    run = demo_shop.run(answer["run_id"])
    reason = {r["rule"]: r["reason"] for r in run["events"][0]["rules"]}["invoice-paid-orders"]
    assert reason == "conditions not met: order.shipping_address.country eq 'DE' was false (actual value: 'GB')"


def test_same_event_twice_is_processed_once(demo_shop):
    body = (EVENTS / "01-order-anna-paid.json").read_bytes()
    first = demo_shop.post(body)
    demo_shop.drain()
    second = demo_shop.post(body)
    demo_shop.drain()
    assert first[0] == 202 and second[0] == 200
    assert second[1]["duplicate"] is True and second[1]["run_id"] == first[1]["run_id"]
    assert len(sent_emails()) == 2  # thank-you + invoice, once each


def test_retry_without_event_id_is_deduplicated_by_body_hash(demo_shop):
    body = order_event(2)
    del body["event_id"]
    assert demo_shop.post(body)[0] == 202
    assert demo_shop.post(body)[1]["duplicate"] is True
    demo_shop.drain()
    assert len(sent_emails()) == 1


def test_idempotency_key_header_deduplicates(demo_shop):
    one, two = order_event(2), order_event(2)
    del one["event_id"], two["event_id"]
    two["order"]["note"] = "same delivery, re-serialised by the sender"
    assert demo_shop.post(one, headers={"Idempotency-Key": "delivery-77"})[0] == 202
    assert demo_shop.post(two, headers={"Idempotency-Key": "delivery-77"})[1]["duplicate"] is True


def test_status_change_fires_shipped_rule_with_sms_in_e164_and_delivery_note(demo_shop):
    demo_shop.post((EVENTS / "01-order-anna-paid.json").read_bytes())
    status, answer = demo_shop.post((EVENTS / "03-order-anna-shipped.json").read_bytes())
    demo_shop.drain()
    assert status == 202
    assert answer["events"] == ["order.status_changed", "order.shipped"]
    assert answer["rules_fired"] == ["review-request", "shipped"]
    [(phone, text)] = sent_sms()
    assert phone == "+4915123456789"
    assert text.startswith("Kaffeerösterei Morgenrot: Ihre Bestellung 1001 ist unterwegs")
    run = demo_shop.run(answer["run_id"])
    pdf = next(d for d in run["deliveries"].values() if d["type"] == "pdf")
    assert pdf["state"] == "sent" and pdf["output"]["filename"] == "Lieferschein-1001.pdf"
    assert OrderItem.get("demo", "9007199254740993").status == "shipped"


def test_unchanged_update_fires_nothing_and_stale_update_is_ignored(demo_shop):
    demo_shop.post(order_event(3))  # stored as shipped, updated 2026-11-24
    status, answer = demo_shop.post(order_event(3, note="same order again", status="shipped") | {"event_id": "x2"})
    assert status == 202 and answer["events"] == [] and answer["note"] == "order unchanged: no trigger event"
    stale = order_event(1) | {"event_id": "late-delivery"}  # created 2026-11-23, status paid: older than stored
    status, answer = demo_shop.post(stale)
    assert answer["events"] == [] and answer["note"].startswith("stale update ignored")
    assert OrderItem.get("demo", "9007199254740993").status == "shipped"


def test_two_orders_of_one_customer_land_on_one_record(demo_shop):
    demo_shop.post((EVENTS / "01-order-anna-paid.json").read_bytes())
    _status, answer = demo_shop.post((EVENTS / "05-order-anna-again.json").read_bytes())
    demo_shop.drain()
    assert "repeat-customer" in answer["rules_fired"]
    [item] = list(CustomerItem.query("demo"))
    customer = customer_from_item(item)
    assert customer.order_count == 2
    assert customer.total_spent == {"EUR": "174.80"}
    assert customer.first_order_at.isoformat() == "2026-11-23T09:15:00+01:00"
    assert any(m["Subject"] == "Schön, dass Sie wieder da sind, Anna!" for m in sent_emails())


def test_frequency_limit_lets_one_message_through_per_window(demo_shop):
    # Given Anna already has two orders (the second fired the once-per-24h welcome-back rule)
    demo_shop.post(order_event(1))
    demo_shop.post(order_event(5))
    # When a third order arrives within the hour
    _, answer = demo_shop.post(order_event(5, id="1004", number="1004") | {"event_id": "third"})
    demo_shop.drain()
    # Then the rule is suppressed, with the reason in the run log
    assert "repeat-customer" not in answer["rules_fired"]
    run = demo_shop.run(answer["run_id"])
    outcome = {r["rule"]: r for r in run["events"][0]["rules"]}["repeat-customer"]
    assert outcome["reason"].startswith("suppressed by frequency limit")
    assert sum(1 for m in sent_emails() if m["Subject"].startswith("Schön, dass Sie")) == 1


def test_shop_rules_are_cached_and_reloaded_after_a_change(demo_shop):
    from regelwerk.store.rules import load_rules, save_rule

    before = load_rules("demo")
    assert load_rules("demo") is before  # warm: no second query
    doc = json.loads(json.dumps(before[0].rule.document()))
    doc["enabled"] = False
    saved = save_rule("demo", doc)
    assert saved.version == 2
    assert [c.rule.enabled for c in load_rules("demo") if c.rule.id == doc["id"]] == [False]
    history = list(RunItem.query("demo"))
    assert history == []  # saving rules writes no runs


def test_language_from_delivery_country_applies_to_this_orders_own_mail(demo_shop):
    # Given a new customer with no language, shipping to Austria, in a shop whose default is German
    # and an English-speaking customer shipping to the UK
    body = order_event(2, id="2001", number="2001") | {"event_id": "uk-no-language"}
    del body["order"]["customer"]["language"]
    _, answer = demo_shop.post(body)
    demo_shop.drain()
    # Then the language rule set English from GB, and the thank-you went out in English
    assert "language-from-country" in answer["rules_fired"]
    [mail] = sent_emails()
    assert mail["Subject"] == "Thank you for your order 2001"
    run = demo_shop.run(answer["run_id"])
    entry = next(d for a, d in run["deliveries"].items() if ":language-from-country:" in a)
    assert entry["state"] == "done" and entry["detail"] == "language unset -> en (from GB)"
    [item] = list(CustomerItem.query("demo"))
    assert customer_from_item(item).language == "en"


def test_repeat_customer_is_tagged_once(demo_shop):
    demo_shop.post(order_event(1))
    _, second = demo_shop.post(order_event(5))
    _, third = demo_shop.post(order_event(5, id="1004", number="1004") | {"event_id": "third"})
    assert "tag-regulars" in second["rules_fired"] and "tag-regulars" not in third["rules_fired"]
    [item] = list(CustomerItem.query("demo"))
    assert customer_from_item(item).tags == ["Stammkunde"]


def test_a_delayed_action_waits_on_the_queue(demo_shop):
    import boto3

    from regelwerk.store.rules import save_rule

    save_rule(
        "demo",
        {
            "id": "later",
            "name": "Later",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "email", "template": "thank-you", "delay": "10m"}],
        },
    )
    demo_shop.post(order_event(2))
    demo_shop.drain()
    # the thank-you rule's mail went out, the delayed one is still on the queue, invisible for 10 minutes
    assert len(sent_emails()) == 1
    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=demo_shop.stack.resources.queues["MailQueue"]["url"],
        AttributeNames=["ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"


def test_shop_matching_by_address_lands_two_orders_on_one_customer(demo_shop):
    from regelwerk.model.shop import Shop
    from regelwerk.store.shops import clear_cache, get_shop, save_shop

    # Given a shop that matches customers by postal address
    save_shop(Shop.model_validate(get_shop("demo").model_dump() | {"customer_matching": "address"}))
    clear_cache()
    first = order_event(1)
    second = order_event(5)  # another e-mail spelling, and "Hauptstr." instead of "Hauptstraße"
    second["order"]["customer"]["email"] = "anna@another-mailbox.example"
    second["order"]["billing_address"] = {
        "name": "ANNA MÜLLER",
        "street": "Hauptstr.",
        "house_number": "5",
        "zip": "04109",
        "city": "leipzig",
        "country": "DE",
    }
    demo_shop.post(first)
    demo_shop.post(second)
    [item] = list(CustomerItem.query("demo"))
    assert customer_from_item(item).order_count == 2
