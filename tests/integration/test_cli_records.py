"""`regelwerk orders`, `order`, `invoices`, `invoice` and `test --order` with the shop's own numbers."""

from __future__ import annotations

import json

from tests.conftest import order_event
from tests.integration.test_cli import cli  # noqa: F401  # the fixture: the CLI against the local stack
from tests.integration.test_dunning import invoice, post_invoice


def test_orders_as_a_table_filtered_and_as_json(cli):  # noqa: F811
    for n in (1, 2):
        cli.shop.post(order_event(n))
    cli.shop.drain()
    code, out = cli("orders", "demo")
    assert code == 0
    head, rule, newest, older, end = out.strip().splitlines()
    assert head.split() == ["placed", "number", "channel", "status", "total", "e-mail", "id"]
    assert "1002" in newest and "38.40 EUR" in newest and "john" in newest
    assert "1001" in older and "149.90 EUR" in older and "anna.mueller@example.de" in older
    assert end == "2 orders"
    code, out = cli("orders", "demo", "--email", "anna.mueller@example.de", "--limit", "1")
    assert code == 0 and "1001" in out and "1002" not in out and out.strip().endswith("1 order")
    code, out = cli("orders", "demo", "--json", "--limit", "1")
    page = json.loads(out)
    assert [o["number"] for o in page["orders"]] == ["1002"] and page["next"]
    code, out = cli("orders", "demo", "--limit", "1", "--next", page["next"])
    assert code == 0 and "1001" in out and "1002" not in out


def test_one_order_by_number_or_id(cli):  # noqa: F811
    cli.shop.post(order_event(1))
    cli.shop.drain()
    code, by_number = cli("order", "demo", "1001")
    assert code == 0
    assert by_number.startswith("order 1001 (shopify, id 9007199254740993)")
    assert "order.imported" in by_number and "thank-you" in by_number and "email  sent" in by_number
    assert "invoice" in by_number.split("documents:")[1]
    code, by_id = cli("order", "demo", "9007199254740993")
    assert code == 0 and by_id == by_number
    code, out = cli("order", "demo", "number:1001", "--json")
    assert json.loads(out)["order"]["id"] == "9007199254740993"
    code, out = cli("order", "demo", "4711")
    assert code == 1 and out.strip() == "regelwerk: no order with number '4711'"


def test_test_takes_an_order_number(cli):  # noqa: F811
    cli.shop.post(order_event(1))
    cli.shop.drain()
    code, out = cli("test", "thank-you", "--shop", "demo", "--order", "1001")
    assert code == 0 and json.loads(out)["order_id"] == "9007199254740993"


def test_invoices_and_one_invoice(cli):  # noqa: F811
    post_invoice(cli.shop, invoice(1, order_id="9007199254740993"))
    post_invoice(cli.shop, invoice(2, issued_at="2026-11-02T10:00:00+01:00"))
    cli.shop.drain()
    code, out = cli("invoices", "demo")
    lines = out.strip().splitlines()
    assert code == 0 and "RE-2026-0002" in lines[2] and "RE-2026-0001" in lines[3] and lines[-1] == "2 invoices"
    code, out = cli("invoices", "demo", "--status", "paid")
    assert code == 0 and out.strip().endswith("0 invoices")
    code, out = cli("invoice", "demo", "RE-2026-0001")
    assert code == 0 and out.startswith("invoice RE-2026-0001 (id in_1)  [open]") and "invoice.sent" in out


def test_an_unknown_shop_or_bad_filter_is_one_line(cli):  # noqa: F811
    for argv in (("orders", "nope"), ("order", "nope", "1001"), ("invoices", "nope"), ("invoice", "nope", "1")):
        code, out = cli(*argv)
        assert code == 1 and out.strip() == "regelwerk: unknown shop 'nope'", argv
    code, out = cli("orders", "demo", "--since", "yesterday")
    assert code == 1 and out.strip().startswith("regelwerk: invalid filter: --since: an ISO date (2026-11-23)")
    code, out = cli("orders", "demo", "--next", "forged")
    assert code == 1 and out.strip() == "regelwerk: invalid paging token: --next: not a token this list gave out"


def test_reindex_puts_records_stored_before_the_indexes_into_them(cli):  # noqa: F811
    from regelwerk.store.tables import InvoiceItem, OrderItem, RunItem

    # Given an order, its runs and an invoice as an older version stored them (no index attributes)
    cli.shop.post(order_event(1))
    post_invoice(cli.shop, invoice(1, order_id="9007199254740993"))
    cli.shop.drain()
    for item in OrderItem.query("demo"):
        item.update(actions=[OrderItem.number_key.remove(), OrderItem.created_at.set("2026-11-23T09:15:00+01:00")])
    for item in InvoiceItem.query("demo"):
        item.update(actions=[InvoiceItem.issued_at.remove(), InvoiceItem.number_key.remove()])
    for run in RunItem.query("demo"):
        run.update(actions=[RunItem.order_key.remove(), RunItem.evaluated.remove()])
    assert cli("order", "demo", "1001")[0] == 1 and "0 invoices" in cli("invoices", "demo")[1]
    # When reindex runs
    code, out = cli("reindex", "demo")
    # Then every record is found again, and a second run has nothing left to do
    runs = len(list(RunItem.query("demo")))
    assert code == 0 and out.strip() == f"indexed 1 order(s), 1 invoice(s), {runs} run(s) of shop demo"
    assert cli("order", "demo", "1001")[0] == 0 and "1 invoice" in cli("invoices", "demo")[1]
    code, out = cli("orders", "demo", "--since", "2026-11-23T08:15:00Z", "--until", "2026-11-23T08:15:01Z")
    assert "1001" in out  # the time is UTC in the index now
    assert "invoice-paid-orders" in cli("order", "demo", "1001")[1]
    assert cli("reindex", "demo")[1].strip() == "indexed 0 order(s), 0 invoice(s), 0 run(s) of shop demo"


def test_runs_answers_why_a_rule_did_not_fire_for_an_order(cli):  # noqa: F811
    for n in (1, 2):
        cli.shop.post(order_event(n))
    cli.shop.drain()
    code, out = cli("runs", "demo", "--order", "1002", "--rule", "invoice-paid-orders", "--fired", "false")
    assert code == 0
    assert out.startswith("20") and "  1002  " in out.splitlines()[0] and "1001" not in out
    [line] = [x for x in out.splitlines() if "invoice-paid-orders" in x]
    assert "skip  invoice-paid-orders: conditions not met" in line and "order.shipping_address.country" in line
    code, out = cli("runs", "demo", "--order", "1001", "--rule", "invoice-paid-orders", "--fired", "false")
    assert code == 0 and out == ""
