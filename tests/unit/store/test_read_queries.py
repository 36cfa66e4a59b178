"""The read routes' data access (and the simulation's): every list and lookup is a Query on an index (or a read
by key), never a Scan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.connection.base import Connection

from tests.conftest import order_event
from tests.integration.test_dunning import invoice


@pytest.fixture
def operations(demo_shop, monkeypatch) -> list[tuple[str, str | None]]:
    """Each DynamoDB operation made from here on, with the index it read."""
    for n in (1, 2):
        demo_shop.post(order_event(n))
    body = invoice(1, number="RE-1", order_id="9007199254740993", issued_at="2026-11-23T10:00:00+01:00")
    demo_shop.post(body, path="/v1/shops/demo/invoices/events")
    demo_shop.drain()
    seen: list[tuple[str, str | None]] = []
    dispatch = Connection.dispatch

    def recording(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        seen.append((operation, kwargs.get("IndexName")))
        return dispatch(self, operation, kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    return seen


def test_every_list_and_lookup_queries_an_index_and_never_scans(operations):
    from regelwerk.api.dryrun import simulate
    from regelwerk.api.records import invoice_detail, order_detail
    from regelwerk.store.invoices import list_invoices
    from regelwerk.store.orders import list_orders
    from regelwerk.store.runs import search_runs
    from regelwerk.store.shops import get_shop

    # Given orders 1001 and 1002 and an invoice of 1001; When every filter path is read
    assert len(list_orders("demo")["orders"]) == 2
    by_email = list_orders("demo", email="Anna.Mueller@example.de", channel="shopify", since="2026-11-01")
    assert [o["number"] for o in by_email["orders"]] == ["1001"]
    assert len(list_orders("demo", number="1001")["orders"]) == 1
    customer = list_orders("demo", number="1002")["orders"][0]["customer_id"]
    assert len(list_orders("demo", customer=customer, until="2026-12-01")["orders"]) == 1
    assert len(list_invoices("demo", status="open", order="9007199254740993")["invoices"]) == 1
    assert len(list_invoices("demo", number="RE-1")["invoices"]) == 1
    assert search_runs("demo", order_id="1002", rule="invoice-paid-orders", fired=False)["runs"]
    assert search_runs("demo", rule="thank-you", fired=True)["runs"]
    assert order_detail("demo", "number:1001@shopify")["runs"]
    assert invoice_detail("demo", "number:RE-1")["runs"]
    window = {"since": datetime(2026, 11, 1, tzinfo=UTC), "until": datetime(2026, 12, 1, tzinfo=UTC)}
    assert simulate(get_shop("demo"), rule_id="thank-you", **window)["orders_considered"] == 2
    # Then nothing scanned, and each Query read the index its path is for
    names = [op for op, _ in operations]
    assert "Scan" not in names
    queried = {index for op, index in operations if op == "Query"}
    assert queried == {"by-created", "by-number", "by-customer", "by-issued", "by-order", "by-received-at"}


def test_an_existing_stack_takes_the_read_indexes_one_per_table_and_deploy():
    """CloudFormation refuses to create two GSIs on one table in one update: ReadIndexes=first, then all."""
    from regelwerk_cli import cfn

    template = cfn.load_template()
    resolver = cfn.Resolver(template, cfn.LocalResources(), "eu-central-1")

    def indexes(read_indexes: str) -> dict[str, set[str]]:
        resolver.params["ReadIndexes"] = read_indexes
        tables = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::DynamoDB::Table"}
        return {
            name: {g["IndexName"] for g in resolver.resolve(spec["Properties"]).get("GlobalSecondaryIndexes", [])}
            for name, spec in tables.items()
        }

    before = {"OrdersTable": {"by-customer"}, "InvoicesTable": {"open-by-due"}, "RunsTable": {"dead-lettered"}}
    first, everything = indexes("first"), indexes("all")
    for table, had in before.items():
        assert had <= first[table] and len(first[table] - had) <= 1, table
    for table in everything:
        assert first[table] <= everything[table] and len(everything[table] - first[table]) <= 1, table
    assert everything["OrdersTable"] == {"by-customer", "by-created", "by-number"}
    assert everything["InvoicesTable"] == {"open-by-due", "by-issued", "by-number"}
