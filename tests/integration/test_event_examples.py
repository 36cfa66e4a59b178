"""docs/events.md's example files: each posted in turn fires the trigger it is named for, and the
document names every field of the canonical order and invoice."""

from __future__ import annotations

import pytest

from regelwerk.model.invoice import Invoice
from regelwerk.model.order import Address, CustomerInfo, LineItem, Order, Refund, RefundLine, ShopMoney
from tests import ROOT

EXAMPLES = ROOT / "events" / "examples"
DOC = (ROOT / "docs" / "events.md").read_text()


def test_each_example_fires_the_trigger_it_is_named_for(demo_shop):
    steps = [
        ("order-imported", "/v1/shops/demo/events/regelwerk", "order.imported"),
        ("order-paid", "/v1/shops/demo/events/regelwerk", "order.paid"),
        ("order-shipped", "/v1/shops/demo/events/regelwerk", "order.shipped"),
        ("order-refunded", "/v1/shops/demo/events/regelwerk", "order.refunded"),
        ("order-cancelled", "/v1/shops/demo/events/regelwerk", "order.cancelled"),
        ("invoice-sent", "/v1/shops/demo/invoices/events", "invoice.sent"),
        ("invoice-paid", "/v1/shops/demo/invoices/events", "invoice.paid"),
    ]
    for name, path, trigger in steps:
        status, answer = demo_shop.post((EXAMPLES / f"{name}.json").read_bytes(), path=path)
        assert status == 202, (name, answer)
        assert trigger in answer["events"], (name, answer["events"])
        assert not demo_shop.run(answer["run_id"]).get("warnings"), name  # the examples add up


@pytest.mark.parametrize("model", [Order, LineItem, CustomerInfo, Address, Refund, RefundLine, ShopMoney, Invoice])
def test_docs_events_md_names_every_field(model) -> None:
    missing = [name for name in model.model_fields if f"`{name}`" not in DOC]
    assert not missing, f"docs/events.md does not describe {model.__name__}: {missing}"
