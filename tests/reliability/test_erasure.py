"""Erasure under faults and at size: an erasure cut short still sends the erased person nothing, and a large
order's contexts parked in S3 go with her."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from regelwerk.store.tables import CustomerItem
from regelwerk_cli import clock
from tests.conftest import order_event, sent_emails
from tests.reliability.test_large_orders import big_order


def invoke(stack):
    return lambda logical_id, event: stack.invoke(logical_id, event)


def anna_id(shop) -> str:
    _, page = shop.admin("GET", "/customers?email=anna.mueller@example.de")
    return page["customers"][0]["id"]


def review_entry(shop, run_id: str) -> dict:
    [entry] = [d for d in shop.run(run_id)["deliveries"].values() if d["rule"] == "review-request"]
    return entry


def test_a_delayed_mail_whose_schedule_survived_a_cut_short_erasure_is_cancelled_when_it_fires(demo_shop):
    # Given Anna's shipped order with the review e-mail waiting seven days on its schedule
    clock.move_to(datetime.now(UTC).replace(microsecond=0), invoke(demo_shop.stack))
    for n in (1, 3):
        status, answer = demo_shop.post(order_event(n))
        assert status == 202
        demo_shop.drain()
    assert review_entry(demo_shop, answer["run_id"])["state"] == "delayed"
    # and an erasure that died right after its first step (the customer marked erased, nothing else done)
    CustomerItem("demo", anna_id(demo_shop)).update(actions=[CustomerItem.erased_at.set(datetime.now(UTC).isoformat())])
    mails = len(sent_emails())
    # When the schedule fires a week later
    _, fired = clock.advance("8d", invoke(demo_shop.stack))
    demo_shop.drain()
    # Then the mail is cancelled with the reason in the run log, and nothing went out
    assert [f.rule_id for f in fired] == ["delayed action"]
    entry = review_entry(demo_shop, answer["run_id"])
    assert (entry["state"], entry["reason"]) == ("cancelled", "the customer was erased")
    assert sent_emails()[mails:] == []


@pytest.mark.slow
def test_a_large_orders_parked_contexts_go_with_the_erasure(demo_shop):
    # Given a 600-line order, shipped: its contexts are parked in S3, one waiting for the review in 7 days
    clock.move_to(datetime.now(UTC).replace(microsecond=0), invoke(demo_shop.stack))
    assert demo_shop.post(json.dumps(big_order(600)).encode())[0] == 202
    demo_shop.drain()
    shipped = big_order(
        600, status="shipped", updated_at="2026-11-24T14:40:00+01:00", shipped_at="2026-11-24T14:40:00+01:00"
    )
    status, answer = demo_shop.post(json.dumps(shipped).encode())
    assert status == 202
    demo_shop.drain()
    s3 = boto3.client("s3")
    bucket = next(iter(demo_shop.stack.resources.buckets.values()))

    def parked() -> list[str]:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="contexts/demo/").get("Contents", [])
        return [o["Key"] for o in listed]

    before = parked()
    assert before
    # When Anna is erased
    status, erased = demo_shop.admin("DELETE", f"/customers/{anna_id(demo_shop)}")
    # Then every parked context of her runs is gone, and the review never goes out
    assert status == 200 and erased["erased"]["parked_contexts"] == len(before)
    assert parked() == []
    mails = len(sent_emails())
    clock.advance("8d", invoke(demo_shop.stack))
    demo_shop.drain()
    assert sent_emails()[mails:] == []
    assert review_entry(demo_shop, answer["run_id"])["state"] == "cancelled"
