"""Real WooCommerce bodies through order-import: decimal quantities are stored, a body that does not
add up is stored as sent and its run says so."""

from __future__ import annotations

import json

from tests.integration import test_adapters
from tests.integration.test_adapters import REAL, post, stored, woo_headers

signed_shop = test_adapters.shop  # a fixture: the demo shop with each platform's secret


def woo(**changes) -> dict:
    return json.loads((REAL / "woocommerce" / "order.json").read_text()) | changes


def test_a_decimal_quantity_is_imported_not_refused(signed_shop):
    body = woo()
    body["line_items"][0] |= {"quantity": 1.5, "subtotal": "4.50", "subtotal_tax": "0.34"}
    body["line_items"][0] |= {"total": "4.50", "total_tax": "0.34"}
    body["total"] = "27.74"
    raw = json.dumps(body).encode()
    status, answer = post("woocommerce", raw, woo_headers(raw))
    assert status == 202, answer
    line = stored(str(body["id"]))["line_items"][0]
    assert (line["quantity"], line["total"], line["unit_price"]) == ("1.5", "4.84", "3.226667")
    assert "warnings" not in signed_shop.run(answer["run_id"])


def test_a_body_that_does_not_add_up_is_stored_as_sent_with_a_warning(signed_shop):
    raw = json.dumps(woo(total="39.35")).encode()
    status, answer = post("woocommerce", raw, woo_headers(raw))
    assert status == 202
    assert stored("727")["total"] == "39.35"  # what WooCommerce charged
    [warning] = signed_shop.run(answer["run_id"])["warnings"]
    assert "29.35" in warning and "39.35" in warning


def test_shopify_refunds_create_joins_the_stored_order_and_fires_order_refunded_once(signed_shop):
    from tests.integration.test_adapters import shopify_headers, shopify_order

    refund = (REAL / "shopify" / "refund-509562969.json").read_bytes()
    # a refund of an order not imported yet: 200, nothing written (its order's webhook brings it)
    status, answer = post("shopify", refund, shopify_headers(refund, topic="refunds/create", webhook_id="r-0"))
    assert status == 200 and "not been imported" in answer["ignored"]

    order = shopify_order()
    post("shopify", order, shopify_headers(order, webhook_id="o-1"))
    status, answer = post("shopify", refund, shopify_headers(refund, topic="refunds/create", webhook_id="r-1"))
    assert status == 202 and answer["events"] == ["order.refunded"], answer
    [stored_refund] = stored("450789469")["refunds"]
    assert (stored_refund["id"], stored_refund["amount"]) == ("509562969", "209.00")

    # the same refund told again (a retry with a new webhook id): nothing fires again
    status, answer = post("shopify", refund, shopify_headers(refund, topic="refunds/create", webhook_id="r-2"))
    assert status == 200 and "already" in answer["ignored"]
