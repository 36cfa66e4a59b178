"""The typed contracts read what the code before them wrote: queue messages, delayed items, pointers, run-log entries.

``tests/fixtures/messages/v1.json`` holds messages serialised by the code before the types existed
(captured from the local stack). A message already on a queue or waiting in the idempotency table
when a new version is deployed must be read as it was meant, and written back the same way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from regelwerk.model.messages import ActionMessage, DeliveryEntry, SchedulerPointer, dumps
from tests import FIXTURES

V1: dict[str, Any] = json.loads((FIXTURES / "messages" / "v1.json").read_text())


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize("name", ["email", "pdf_with_chain", "set_order_status", "throttled_email", "released_email"])
def test_an_action_message_of_the_first_format_is_read_and_written_back_unchanged(name):
    raw = V1[name]

    msg = ActionMessage.from_message(json.loads(json.dumps(raw)))

    assert msg.to_message() == _without_none(raw)
    assert json.loads(msg.dumps()) == _without_none(raw)


def test_the_fields_of_an_old_message_mean_what_they_meant():
    raw = V1["pdf_with_chain"]

    msg = ActionMessage.from_message(raw)

    assert (msg.shop_id, msg.rule_id, msg.event_type) == ("demo", "invoice-paid-orders", "order.imported")
    assert msg.kind == "pdf" and msg.action["document"] == "invoice"
    assert msg.action_id.endswith(":invoice-paid-orders:0") and msg.run_id == raw["run_id"]
    assert msg.then[0]["queue"] == "mail" and msg.then[0]["action"]["attach"] == ["invoice_pdf"]
    assert msg.context["order"]["number"] == raw["context"]["order"]["number"]
    assert msg.planned_at == raw["planned_at"] and msg.depth == 0 and msg.outputs == {}


def test_a_throttled_message_keeps_its_pause_and_count():
    msg = ActionMessage.from_message(V1["throttled_email"])

    assert (msg.throttled, msg.delay_seconds) == (2, 20)


def test_a_stored_delayed_action_and_its_pointer_are_read():
    item, pointer = V1["delayed_item"], SchedulerPointer.from_message(V1["scheduler_pointer"])

    msg = ActionMessage.from_message(item["message"])

    assert msg.delay == "7d" and msg.without_delay().delay is None
    assert pointer.action_id == msg.action_id and pointer.run_id == msg.run_id and pointer.shop_id == "demo"
    assert SchedulerPointer.is_pointer(V1["scheduler_pointer"]) and not SchedulerPointer.is_pointer(item["message"])
    assert pointer.to_message() == V1["scheduler_pointer"]


def test_keys_a_newer_writer_added_are_kept():
    raw = V1["email"] | {"trace": {"id": "abc"}}

    assert ActionMessage.from_message(raw).to_message() == raw


def test_a_body_that_is_no_action_message_says_what_it_lacks():
    with pytest.raises(KeyError, match="missing action_id"):
        ActionMessage.from_message({k: v for k, v in V1["email"].items() if k != "action_id"})


def test_run_log_entries_of_the_first_format_round_trip():
    for raw in V1["run_deliveries"].values():
        entry = DeliveryEntry.from_message(raw)
        assert entry.to_message() == raw
        assert entry.state in ("queued", "waiting") and entry.detail == {"attempts": 0}


def test_money_and_times_travel_as_text():
    from datetime import UTC, datetime
    from decimal import Decimal

    assert dumps({"a": Decimal("24.90"), "t": datetime(2026, 11, 28, tzinfo=UTC)}) == (
        '{"a":"24.90","t":"2026-11-28T00:00:00+00:00"}'
    )
