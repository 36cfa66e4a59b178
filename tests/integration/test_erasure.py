"""GDPR erasure that erases (art. 17) and the export that shows (art. 15), as a shop owner and an auditor see them.

Anna has an order that was paid (invoice PDF, thank-you mail, a packing task and a task naming her) and then
shipped (a delivery note PDF, an SMS, and a review e-mail waiting seven days on a schedule). After the
erasure, every table, the bucket and the mails sent since are searched for her e-mail, name, street and
phone: only the retained invoice PDF holds them, and advancing the clock sends her nothing.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from pypdf import PdfReader

from regelwerk.store.rules import save_rule
from regelwerk.store.tables import InvoiceItem
from regelwerk_cli import clock
from tests.conftest import order_event, sent_emails, sent_sms

ANNA = ("anna.mueller@example.de", "Müller", "Hauptstr", "0151 2345 6789")
CALL_TASK = {
    "id": "call-task",
    "name": "A task that names the buyer",
    "trigger": {"event": "order.imported"},
    "actions": [{"type": "create_task", "title": "Call {{ customer.name }} <{{ customer.email }}>"}],
}


def invoke(stack):
    return lambda logical_id, event: stack.invoke(logical_id, event)


def mentions_anna(text: str) -> bool:
    folded = text.casefold()
    return any(v.casefold() in folded for v in ANNA)


def to_anna(mails: list) -> list:
    return [m for m in mails if "anna.mueller" in str(m["To"]).casefold()]


def everything_stored(stack) -> dict[str, list[str]]:
    """Every item of every table (a scan: the test may, the code may not) and every object of the bucket,
    PDFs read as text, as {where: [texts]}."""
    found: dict[str, list[str]] = {}
    dynamodb = boto3.client("dynamodb")
    for name in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            found[name] = found.get(name, []) + [json.dumps(i, ensure_ascii=False) for i in page["Items"]]
    s3 = boto3.client("s3")
    for bucket in stack.resources.buckets.values():
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                if obj["Key"].endswith(".pdf"):
                    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)
                else:
                    text = body.decode("utf-8", "replace")
                found[obj["Key"]] = [text]
    return found


def where_anna_is(stack) -> list[str]:
    return sorted(where for where, texts in everything_stored(stack).items() if any(mentions_anna(t) for t in texts))


@pytest.fixture
def anna(demo_shop) -> dict[str, Any]:
    """Anna's order 1001 paid, then shipped: runs, two PDFs, two tasks, mails, an SMS and a waiting review."""
    save_rule("demo", CALL_TASK)
    clock.move_to(datetime.now(UTC).replace(microsecond=0), invoke(demo_shop.stack))
    runs = []
    for n in (1, 3):
        status, answer = demo_shop.post(order_event(n))
        assert status == 202, answer
        demo_shop.drain()
        runs.append(answer["run_id"])
    _, page = demo_shop.admin("GET", "/customers?email=anna.mueller@example.de")
    [customer] = page["customers"]
    return {"id": customer["id"], "runs": runs}


def test_the_export_shows_everything_held_on_her_then_404_after_the_erasure(demo_shop, anna):
    # Given Anna with an order, its runs, tasks, PDFs and a waiting review e-mail
    status, export = demo_shop.admin("GET", f"/customers/{anna['id']}/export")
    # Then the export holds all of it
    assert status == 200
    assert export["generated_at"] and export["customer"]["email"] == "anna.mueller@example.de"
    assert [o["number"] for o in export["orders"]] == ["1001"]
    assert {r["run_id"] for r in export["runs"]} >= set(anna["runs"])
    assert any("Anna Müller" in t["title"] for t in export["tasks"])
    assert {d["kind"] for d in export["documents"]} == {"invoice", "delivery_note"}
    [waiting] = export["delayed_actions"]
    assert waiting["rule"] == "review-request" and waiting["type"] == "email" and waiting["due"]
    # When she is erased, the export answers 404
    assert demo_shop.admin("DELETE", f"/customers/{anna['id']}")[0] == 200
    status, answer = demo_shop.admin("GET", f"/customers/{anna['id']}/export")
    assert status == 404, answer


def test_after_the_erasure_only_the_retained_invoice_holds_her_data_and_nothing_reaches_her(demo_shop, anna):
    # Given everything Regelwerk made for her (she is in the runs, tasks, ledger, delayed item and both PDFs)
    before = where_anna_is(demo_shop.stack)
    assert any("/documents/delivery_note/" in w for w in before) and any("/documents/invoice/" in w for w in before)
    assert len([w for w in before if "/documents/" not in w]) >= 5  # customers, orders, runs, tasks, idempotency
    mails_before, sms_before = len(sent_emails()), len(sent_sms())

    # When the shop erases her
    status, answer = demo_shop.admin("DELETE", f"/customers/{anna['id']}")

    # Then the answer says what went and what stays, and why
    assert status == 200, answer
    erased, retained = answer["erased"], answer["retained"]
    assert erased["orders"] == 1 and erased["runs"] >= 2 and erased["tasks"] == 2
    assert erased["delayed_actions_cancelled"] == 1 and erased["documents"] == 1 and erased["delivery_records"] >= 2
    year = datetime.now(UTC).year
    assert retained == {
        "invoice_documents": {"count": 1, "until": f"{year + 10}-12-31", "why": retained["invoice_documents"]["why"]}
    }
    assert "§147 AO" in retained["invoice_documents"]["why"]
    # a search of every table and the bucket for her e-mail, name, street and phone finds the invoice alone
    [kept] = where_anna_is(demo_shop.stack)
    assert kept.startswith("shops/demo/documents/invoice/")
    bucket = next(iter(demo_shop.stack.resources.buckets.values()))
    tags = boto3.client("s3").get_object_tagging(Bucket=bucket, Key=kept)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"retention": "tax-law", "retain-until": f"{year + 10}-12-31"}
    # the run log keeps the decisions: the condition traces still name their fields, their values are gone
    run = demo_shop.run(anna["runs"][1])
    traces = [c for e in run["events"] for r in e["rules"] for c in _leaves(r.get("conditions"))]
    assert traces and all(c["actual"] in ("[erased]", None) for c in traces) and all(c.get("field") for c in traces)
    [review] = [d for d in run["deliveries"].values() if d["rule"] == "review-request"]
    assert review["state"] == "cancelled" and review["reason"] == "the customer was erased"
    assert boto3.client("scheduler").list_schedules(GroupName="regelwerk-dev", NamePrefix="rwd-")["Schedules"] == []

    # When the clock passes the review's due date
    _, fired = clock.advance("8d", invoke(demo_shop.stack))
    demo_shop.drain()
    # Then nothing was sent to anyone about her, and nothing of her was stored again
    assert [f for f in fired if f.rule_id == "delayed action"] == []
    assert sent_emails()[mails_before:] == [] and sent_sms()[sms_before:] == []
    assert where_anna_is(demo_shop.stack) == [kept]

    # and erasing again finds nothing left to do
    status, again = demo_shop.admin("DELETE", f"/customers/{anna['id']}")
    assert status == 200 and again["erased"]["runs"] == 0 and again["erased"]["documents"] == 0


def test_a_message_queued_before_the_erasure_is_skipped_when_it_is_sent(demo_shop, anna):
    # Given Anna's second order, its thank-you and welcome-back mails on the queue, not yet sent
    mails_before = len(sent_emails())
    status, answer = demo_shop.post(order_event(5))
    assert status == 202
    # When she is erased before the mail function runs
    assert demo_shop.admin("DELETE", f"/customers/{anna['id']}")[0] == 200
    demo_shop.drain()
    # Then nothing reached her, and the run log says why
    assert to_anna(sent_emails()[mails_before:]) == []
    run = demo_shop.run(answer["run_id"])
    to_her = [d for d in run["deliveries"].values() if d["type"] in ("email", "pdf")]
    skipped = [d for d in to_her if d["state"] == "skipped"]
    assert skipped and all(d["reason"] == "the customer was erased" for d in skipped)
    assert {d["rule"] for d in skipped} >= {"thank-you", "repeat-customer"}
    # and the owner's big-order alert, addressed to the owner, is not held back by her erasure
    assert all(d["state"] != "skipped" for d in run["deliveries"].values() if d["rule"] == "big-order-alert")
    assert where_anna_is(demo_shop.stack) == [k for k in where_anna_is(demo_shop.stack) if "/invoice/" in k]


def _leaves(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        if "actual" in node:
            return [node]
        return [leaf for v in node.values() for leaf in _leaves(v)]
    if isinstance(node, list):
        return [leaf for v in node for leaf in _leaves(v)]
    return []


def test_her_stored_invoice_is_kept_for_tax_law_and_no_reminder_finds_it(demo_shop, anna):
    # Given an open invoice of her order, as the shop's invoicing sends it, naming her
    body = {
        "id": "in_anna",
        "number": "RE-2026-0100",
        "order_id": "9007199254740993",
        "customer_email": "anna.mueller@example.de",
        "customer_name": "Anna Müller",
        "currency": "EUR",
        "amount": "149.90",
        "status": "open",
        "issued_at": "2026-11-01T10:00:00+01:00",
        "due_at": "2026-11-15T23:59:59+01:00",
    }
    status, answer = demo_shop.post(
        {"event_id": "in-anna-open", "invoice": body}, path="/v1/shops/demo/invoices/events"
    )
    assert status in (200, 202), answer
    assert InvoiceItem.get("demo", "in_anna").open_shop == "demo"
    # When she is erased
    status, answer = demo_shop.admin("DELETE", f"/customers/{anna['id']}")
    # Then the invoice stays as it was issued, marked retained until the end of 2036, out of the overdue scan
    assert status == 200
    assert answer["retained"]["invoices"]["count"] == 1 and answer["retained"]["invoices"]["until"] == "2036-12-31"
    stored = InvoiceItem.get("demo", "in_anna")
    assert stored.retained_until == "2036-12-31" and stored.open_shop is None
    assert json.loads(stored.document)["customer_name"] == "Anna Müller"
    assert any(w.endswith("InvoicesTable") for w in where_anna_is(demo_shop.stack))
