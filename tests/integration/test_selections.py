"""Rules over selections: manual runs (Billbee's manual trigger) and scheduled rules with `over`."""

from __future__ import annotations

from regelwerk.store.rules import save_rule, save_template
from regelwerk.store.runs import get_run, list_runs
from regelwerk_cli import clock
from tests.conftest import order_event, sent_emails

BIG = {
    "id": "big-spender-note",
    "name": "Note big orders to the owner",
    "trigger": {"event": "manual"},
    "when": {"all": [{"field": "order.total", "op": "gt", "value": 100}]},
    "actions": [{"type": "email", "template": "note", "to": "owner"}],
}


def setup(shop) -> None:
    save_template(
        "demo", "note", "de", {"subject": "Große Bestellung {{ order.number }}", "text": "{{ order.total | money }}"}
    )
    for n in (1, 2, 5):
        shop.post(order_event(n))
    shop.drain()


def notes() -> list[str]:
    return sorted(m["Subject"] for m in sent_emails() if m["Subject"].startswith("Große Bestellung"))


def test_a_manual_run_on_given_orders_fires_where_the_conditions_hold(demo_shop):
    setup(demo_shop)
    save_rule("demo", BIG)
    status, answer = demo_shop.admin(
        "POST", "/rules/big-spender-note/run", {"order_ids": ["9007199254740993", "1002", "nope"]}
    )
    assert status == 202 and answer["queued"] == 3
    demo_shop.drain()
    assert notes() == ["Große Bestellung 1001"]
    parent = get_run("demo", answer["run_id"])
    [page] = parent["deliveries"].values()
    assert (page["checked"], page["in_window"], page["fired"]) == (3, 2, 1)
    children = [r for r in list_runs("demo") if r.get("parent_run") == answer["run_id"]]
    assert [c["order_number"] for c in children] == ["1001"]
    # the same page delivered again (SQS at least once): nothing twice
    demo_shop.admin("POST", "/rules/big-spender-note/run", {"order_ids": ["1002"]})
    demo_shop.drain()
    assert notes() == ["Große Bestellung 1001"]


def test_a_manual_run_over_a_selection(demo_shop):
    setup(demo_shop)
    save_rule("demo", BIG | {"when": {"all": [{"field": "order.total", "op": "gt", "value": 10}]}})
    status, answer = demo_shop.admin("POST", "/rules/big-spender-note/run", {"over": "orders", "window": "all"})
    assert status == 202 and answer["queued"] == "selection"
    demo_shop.drain()
    assert notes() == ["Große Bestellung 1001", "Große Bestellung 1002", "Große Bestellung 1003"]


def test_manual_run_refuses_unclear_requests(demo_shop):
    save_template("demo", "note", "de", {"subject": "x", "text": "y"})
    save_rule("demo", BIG)
    assert demo_shop.admin("POST", "/rules/big-spender-note/run", {"order_ids": ["1"], "over": "orders"})[0] == 422
    assert demo_shop.admin("POST", "/rules/big-spender-note/run", {"window": "last_month"})[0] == 422
    assert demo_shop.admin("POST", "/rules/big-spender-note/run", {"over": "orders", "window": "someday"})[0] == 422
    assert demo_shop.admin("POST", "/rules/nope/run", {"order_ids": ["1"]})[0] == 404


def test_a_monthly_rule_over_last_months_orders_and_the_monthly_export(demo_shop):
    setup(demo_shop)  # orders created 23 and 24 November 2026
    save_rule(
        "demo",
        {
            "id": "monthly-big-orders",
            "name": "On the 1st: note last month's big orders",
            "trigger": {"event": "schedule", "cron": "0 8 1 * *"},
            "over": "orders",
            "window": "last_month",
            "when": {"all": [{"field": "order.total", "op": "gt", "value": 100}]},
            "actions": [{"type": "email", "template": "note", "to": "owner"}],
        },
    )
    save_template(
        "demo",
        "export",
        "de",
        {"subject": "Bestellungen {{ outputs.csv.filename }}", "text": "{{ outputs.csv.rows }} Bestellungen"},
    )
    save_rule(
        "demo",
        {
            "id": "monthly-export",
            "name": "On the 1st: last month's orders as CSV to the owner",
            "trigger": {"event": "schedule", "cron": "0 8 1 * *"},
            "actions": [
                {"type": "export", "of": "orders", "window": "last_month", "as": "csv"},
                {"type": "notify_owner", "template": "export", "attach": ["csv"]},
            ],
        },
    )
    clock.move_to(clock.parse_time("2026-11-30T12:00+01:00"), demo_shop.stack.invoke)
    _, fired = clock.advance("1d", demo_shop.stack.invoke)
    demo_shop.drain()
    assert sorted(f.rule_id for f in fired) == ["monthly-big-orders", "monthly-export"]
    assert notes() == ["Große Bestellung 1001"]  # 1002 is under 100, 1003 too
    [export] = [m for m in sent_emails() if m["Subject"].startswith("Bestellungen")]
    assert export["To"] == "inhaberin@morgenrot.example"
    assert export.get_body(("plain",)).get_content().strip() == "3 Bestellungen"
    [csv] = list(export.iter_attachments())
    text = csv.get_content()
    text = text.decode("utf-8-sig") if isinstance(text, bytes) else text.lstrip("\ufeff")
    assert text.count("\n") == 4 and "1001" in text and "1002" in text and "1003" in text

    # the next month's slot: nothing from November again
    _, fired = clock.advance("31d", demo_shop.stack.invoke)
    demo_shop.drain()
    assert notes() == ["Große Bestellung 1001"]
