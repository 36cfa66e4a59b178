"""The owner's daily digest of dead-lettered actions."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from regelwerk.store.rules import delete_template, save_rule, save_template
from regelwerk.store.schedules import shop_job_name
from regelwerk.store.shops import get_shop, save_shop
from regelwerk_cli import clock
from tests.conftest import order_event, sent_emails

BROKEN = {
    "id": "broken-mail",
    "name": "An e-mail whose template was deleted after the rule was saved",
    "trigger": {"event": "order.imported"},
    "actions": [{"type": "email", "template": "missing-template", "to": "customer"}],
}


def digests() -> list:
    return [m for m in sent_emails() if "fehlgeschlagene Aktion" in m["Subject"]]


def test_a_dead_lettered_action_reaches_the_owner_in_the_next_daily_digest_once(demo_shop):
    # a rule naming a missing template is refused when saved: the template goes after the rule
    save_template("demo", "missing-template", "de", {"subject": "Hallo", "text": "Hallo"})
    save_rule("demo", BROKEN)
    delete_template("demo", "missing-template", "de")
    clock.move_to(datetime.now(UTC).replace(microsecond=0), demo_shop.stack.invoke)
    status, answer = demo_shop.post(order_event(2))
    demo_shop.drain()
    run = demo_shop.run(answer["run_id"])
    assert run["status"] == "dead_lettered"

    _, fired = clock.advance("1d", demo_shop.stack.invoke)  # the next 08:00 in Berlin
    demo_shop.drain()
    [digest] = [f for f in fired if f.rule_id == "dead_letter_digest"]
    assert digest.answer["dead_letters"] == 1
    [mail] = digests()
    assert mail["To"] == "inhaberin@morgenrot.example"
    assert mail["Subject"] == "1 fehlgeschlagene Aktion(en) bei Kaffeerösterei Morgenrot"
    body = mail.get_body(("plain",)).get_content()
    assert "Regel broken-mail (email), Bestellung 1002" in body
    assert "template 'missing-template' does not exist" in body
    assert "regelwerk dlq demo --redrive" in body

    _, fired = clock.advance("1d", demo_shop.stack.invoke)  # a quiet day: no digest, not even a line
    demo_shop.drain()
    assert [f for f in fired if f.rule_id == "dead_letter_digest"] == []
    assert len(digests()) == 1


def test_the_digest_can_be_switched_off(demo_shop):
    client = boto3.client("scheduler")
    assert client.get_schedule(GroupName="regelwerk-dev", Name=shop_job_name("demo", "digest"))
    shop = get_shop("demo")
    save_shop(shop.model_validate(shop.model_dump() | {"alerts": {"dead_letters": "off"}}))
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_schedule(GroupName="regelwerk-dev", Name=shop_job_name("demo", "digest"))
