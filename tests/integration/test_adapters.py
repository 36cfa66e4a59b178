"""Real platform webhooks through order-import: signed as the platforms sign them, refused when they are not."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from regelwerk.ingest.adapters.signatures import sign_base64, sign_hex
from regelwerk.store.tables import CustomerItem, OrderItem, RunItem
from tests.conftest import STACK, sent_emails

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REAL = FIXTURES / "realworld"
SECRETS = {"shopify": "shpss_morgenrot_8f2a", "woocommerce": "wc-morgenrot-1b7c", "shopware": "sw-shop-secret-44d0"}


def configure(platforms: dict[str, Any]) -> None:
    """Set the demo shop's platforms (as `regelwerk apply` would from shop.yaml) and drop the warm caches."""
    from regelwerk.model.shop import Shop
    from regelwerk.store.shops import clear_cache, get_shop, save_shop

    save_shop(Shop.model_validate(get_shop("demo").model_dump() | {"platforms": platforms}))
    clear_cache()


@pytest.fixture
def shop(demo_shop, monkeypatch):
    """The demo shop with a secret per signing platform, each referenced by an environment variable."""
    for platform, secret in SECRETS.items():
        monkeypatch.setenv(f"DEMO_{platform.upper()}_SECRET", secret)
    configure({p: {"secret": {"env": f"DEMO_{p.upper()}_SECRET"}} for p in SECRETS})
    return demo_shop


def post(platform: str, raw: bytes, headers: dict[str, str] | None = None, shop_id: str = "demo"):
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    status, _, answer = STACK.invoke_http("POST", f"/v1/shops/{shop_id}/events/{platform}", hdrs, raw)
    return status, json.loads(answer or b"{}")


def nothing_written() -> bool:
    return not any(list(table.query("demo")) for table in (OrderItem, RunItem, CustomerItem))


def stored(order_id: str) -> dict[str, Any]:
    return json.loads(OrderItem.get("demo", order_id).document)


# ------------------------------------------------------------------ Shopify


def shopify_order(**changes: Any) -> bytes:
    """The body Shopify posts: the order object (the fixture wraps it as the REST API does)."""
    order = json.loads((REAL / "shopify" / "order.wrapped.json").read_text())["order"]
    return json.dumps(order | changes).encode()


def shopify_headers(
    raw: bytes, *, topic: str = "orders/create", webhook_id: str = "b54557e4-a5b4-4d35-a09a-0b2a3d6b8f11", secret=None
) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_base64(secret or SECRETS["shopify"], raw),
        "X-Shopify-Shop-Domain": "morgenrot.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2024-10",
    }


def test_signed_shopify_order_is_imported_and_the_customer_thanked(shop):
    # Given a Shopify order, signed with the shop's secret
    raw = shopify_order()
    # When Shopify posts it
    status, answer = post("shopify", raw, shopify_headers(raw))
    shop.drain()

    # Then it is taken in as the canonical order, and the thank-you rule fires for it
    assert status == 202
    assert answer["events"] == ["order.imported"]
    # the US customer had no language: the demo's language rule sets English from the delivery country
    assert answer["rules_fired"] == ["language-from-country", "thank-you"]
    doc = stored("450789469")
    assert (doc["number"], doc["channel"], doc["status"], doc["currency"], doc["total"]) == (
        "1001",
        "shopify",
        "new",
        "USD",
        "409.94",
    )
    assert doc["customer"]["email"] == "bob.norman@hostmail.com"
    assert doc["shipping_address"]["country"] == "US"
    assert [i["sku"] for i in doc["line_items"]] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert "authorize_net" not in OrderItem.get("demo", "450789469").document  # the raw body is not stored
    [mail] = sent_emails()
    assert mail["To"] == "bob.norman@hostmail.com"
    assert mail["Subject"] == "Thank you for your order 1001"
    assert "$" in mail.get_body(("plain",)).get_content()  # US dollars, as the order says

    run = shop.run(answer["run_id"])
    assert run["platform"] == "shopify"


def test_shopify_retry_with_the_same_webhook_id_is_a_duplicate(shop):
    raw = shopify_order()
    first = post("shopify", raw, shopify_headers(raw))
    again = shopify_order(note="re-serialised by Shopify on retry")
    second = post("shopify", again, shopify_headers(again))  # same X-Shopify-Webhook-Id
    shop.drain()
    assert first[0] == 202
    assert second[0] == 200 and second[1]["duplicate"] is True and second[1]["run_id"] == first[1]["run_id"]
    assert len(sent_emails()) == 1


def test_shopify_updates_fire_paid_then_shipped_only_when_they_show_it(shop):
    created = shopify_order()
    post("shopify", created, shopify_headers(created, webhook_id="w-1"))

    paid = shopify_order(financial_status="paid", updated_at="2008-01-10T11:30:00-05:00")
    status, answer = post("shopify", paid, shopify_headers(paid, topic="orders/paid", webhook_id="w-2"))
    assert status == 202 and answer["events"] == ["order.status_changed", "order.paid"]

    same = shopify_order(financial_status="paid", updated_at="2008-01-10T11:31:00-05:00", note="edited note")
    status, answer = post("shopify", same, shopify_headers(same, topic="orders/updated", webhook_id="w-3"))
    assert answer["events"] == [] and answer["note"] == "order unchanged: no trigger event"

    fulfilled = shopify_order(
        financial_status="paid", fulfillment_status="fulfilled", updated_at="2008-01-11T09:00:00-05:00"
    )
    status, answer = post("shopify", fulfilled, shopify_headers(fulfilled, topic="orders/fulfilled", webhook_id="w-4"))
    assert answer["events"] == ["order.status_changed", "order.shipped"]
    # the demo's review request follows order.shipped (its shipping SMS texts German and British mobiles only)
    assert answer["rules_fired"] == ["review-request"]
    assert OrderItem.get("demo", "450789469").status == "shipped"

    cancelled = shopify_order(
        financial_status="refunded", cancelled_at="2008-01-12T09:00:00-05:00", updated_at="2008-01-12T09:00:00-05:00"
    )
    status, answer = post("shopify", cancelled, shopify_headers(cancelled, topic="orders/cancelled", webhook_id="w-5"))
    assert answer["events"] == ["order.status_changed", "order.cancelled"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("tamper", "does not match the body"),
        ("wrong-secret", "does not match the body"),
        ("missing", "missing signature: the X-Shopify-Hmac-Sha256 header is required"),
        ("garbage", "malformed X-Shopify-Hmac-Sha256"),
    ],
)
def test_bad_shopify_signatures_are_401_and_write_nothing(shop, change, reason):
    raw = shopify_order()
    headers = shopify_headers(raw, secret="not-the-shops-secret" if change == "wrong-secret" else None)
    if change == "tamper":
        raw = raw.replace(b'"total_price": "409.94"', b'"total_price": "0.01"')
    elif change == "missing":
        del headers["X-Shopify-Hmac-Sha256"]
    elif change == "garbage":
        headers["X-Shopify-Hmac-Sha256"] = "sha256=abc"
    status, answer = post("shopify", raw, headers)
    assert status == 401
    assert reason in answer["message"]
    assert nothing_written()


def test_the_ingest_key_does_not_replace_a_signature(shop):
    raw = shopify_order()
    status, answer = post("shopify", raw, {"Authorization": f"Bearer {shop.key}", "X-Shopify-Topic": "orders/create"})
    assert status == 401 and "X-Shopify-Hmac-Sha256" in answer["message"]
    assert nothing_written()


def test_previous_secret_works_during_rotation_and_not_after(shop, monkeypatch):
    # Given the shop rotated its Shopify secret: the old one stays valid for an hour
    monkeypatch.setenv("DEMO_SHOPIFY_NEW", "shpss_rotated_c001")
    rotation = {
        "secret": {"env": "DEMO_SHOPIFY_NEW"},
        "previous_secret": {"env": "DEMO_SHOPIFY_SECRET"},
        "previous_valid_until": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    configure({"shopify": rotation})
    old = shopify_order()
    # When a delivery still signed with the old secret arrives in the grace period, it is accepted
    assert post("shopify", old, shopify_headers(old, webhook_id="r-1"))[0] == 202
    # and after the grace period it is refused, saying why
    configure({"shopify": rotation | {"previous_valid_until": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}})
    late = shopify_order(updated_at="2008-01-10T12:00:00-05:00")
    status, answer = post("shopify", late, shopify_headers(late, webhook_id="r-2"))
    assert status == 401 and "previous shopify secret" in answer["message"]
    # while the new secret works
    new = shopify_order(updated_at="2008-01-10T12:00:00-05:00")
    assert post("shopify", new, shopify_headers(new, webhook_id="r-3", secret="shpss_rotated_c001"))[0] == 202


def test_unconfigured_platform_is_401_and_an_unresolvable_secret_503(demo_shop, monkeypatch):
    raw = shopify_order()
    configure({})  # a shop that has not connected Shopify
    status, answer = post("shopify", raw, shopify_headers(raw))
    assert status == 401 and "platforms.shopify.secret" in answer["message"]
    monkeypatch.delenv("DEMO_SHOPIFY_SECRET", raising=False)
    configure({"shopify": {"secret": {"env": "DEMO_SHOPIFY_SECRET"}}})
    status, answer = post("shopify", raw, shopify_headers(raw))
    assert status == 503 and answer["message"].startswith("the shop's shopify secret cannot be read")
    assert "DEMO_SHOPIFY_SECRET" not in answer["message"]  # the caller is not authenticated: no configuration details
    assert nothing_written()


def test_shopify_body_that_is_not_an_order_is_422_naming_the_fields(shop):
    order = json.loads(shopify_order())
    del order["currency"], order["total_price"], order["created_at"]
    raw = json.dumps(order).encode()
    status, answer = post("shopify", raw, shopify_headers(raw))
    assert status == 422
    paths = {p["path"]: p["reason"] for p in answer["problems"]}
    assert paths == {
        "$.currency": "required field is missing",
        "$.total_price": "required field is missing",
        "$.created_at": "required field is missing",
    }
    assert nothing_written()


def test_unknown_platform_and_unknown_shop_are_404(shop):
    raw = shopify_order()
    status, answer = post("magento", raw, shopify_headers(raw))
    assert status == 404 and "unknown platform 'magento'" in answer["message"]
    assert "shopify" in answer["message"]
    status, answer = post("shopify", raw, shopify_headers(raw), shop_id="nope")
    assert status == 404 and "unknown shop" in answer["message"]


# ------------------------------------------------------------------ rules and templates see the platform body


def test_rules_and_templates_see_the_original_body_and_the_topic(shop):
    from regelwerk.store.rules import save_rule, save_template

    save_template(
        "demo",
        "gateway-note",
        "de",
        {"subject": "Zahlart {{ event.raw.gateway }} ({{ event.topic }})", "text": "{{ event.raw.note_attributes }}"},
    )
    save_rule(
        "demo",
        {
            "id": "authorised-card",
            "name": "Tell the owner about card authorisations",
            "trigger": {"event": "order.imported"},
            "when": {
                "all": [
                    {"field": "event.raw.financial_status", "op": "eq", "value": "authorized"},
                    {"field": "event.topic", "op": "eq", "value": "orders/create"},
                ]
            },
            "actions": [{"type": "email", "template": "gateway-note", "to": "owner"}],
        },
    )
    raw = shopify_order()
    _, answer = post("shopify", raw, shopify_headers(raw))
    shop.drain()
    assert "authorised-card" in answer["rules_fired"]
    mail = next(m for m in sent_emails() if m["Subject"].startswith("Zahlart"))
    assert mail["Subject"] == "Zahlart authorize_net (orders/create)"
    assert "Happy Birthday" in mail.get_body(("plain",)).get_content()


# ------------------------------------------------------------------ WooCommerce


def woo_order(**changes: Any) -> bytes:
    return json.dumps(json.loads((REAL / "woocommerce" / "order.json").read_text()) | changes).encode()


def woo_headers(raw: bytes, *, topic: str = "order.created", delivery: str = "d41d8cd98f00") -> dict[str, str]:
    return {
        "X-WC-Webhook-Source": "https://morgenrot.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Signature": sign_base64(SECRETS["woocommerce"], raw),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery,
    }


def test_woocommerce_ping_is_answered_200_and_writes_nothing(shop):
    status, _, answer = STACK.invoke_http(
        "POST",
        "/v1/shops/demo/events/woocommerce",
        {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/9.4 Hookshot"},
        b"webhook_id=12",
    )
    assert status == 200 and json.loads(answer) == {"ping": True, "platform": "woocommerce", "webhook_id": "12"}
    assert nothing_written()
    assert post("woocommerce", b"webhook_id=12", shop_id="nope")[0] == 404


def test_signed_woocommerce_order_is_imported(shop):
    raw = woo_order()
    status, answer = post("woocommerce", raw, woo_headers(raw))
    assert status == 202 and answer["rules_fired"] == ["language-from-country", "start-packing", "thank-you"]
    doc = stored("727")
    assert (doc["status"], doc["currency"], doc["total"], doc["customer"]["email"]) == (
        "paid",
        "USD",
        "29.35",
        "john.doe@example.com",
    )
    assert doc["paid_at"] == "2017-03-22T19:28:08Z"
    assert doc["line_items"][1]["name"] == "Ship Your Idea – Color: Black, Size: M Test"


def test_woocommerce_resend_with_a_new_delivery_id_is_a_duplicate(shop):
    raw = woo_order()
    assert post("woocommerce", raw, woo_headers(raw, delivery="first-attempt"))[0] == 202
    status, answer = post("woocommerce", raw, woo_headers(raw, delivery="second-attempt"))
    assert status == 200 and answer["duplicate"] is True


def test_woocommerce_completed_fires_shipped_and_tampering_is_refused(shop):
    raw = woo_order()
    post("woocommerce", raw, woo_headers(raw))
    done = woo_order(
        status="completed", date_completed_gmt="2017-03-24T08:00:00", date_modified_gmt="2017-03-24T08:00:00"
    )
    status, answer = post("woocommerce", done, woo_headers(done, topic="order.updated"))
    assert answer["events"] == ["order.status_changed", "order.shipped"]
    tampered = done.replace(b'"completed"', b'"refunded"')
    status, answer = post("woocommerce", tampered, woo_headers(done, topic="order.updated"))
    assert status == 401 and "X-WC-Webhook-Signature" in answer["message"]
    assert OrderItem.get("demo", "727").status == "completed"


def test_the_exact_bytes_are_verified_even_when_they_are_not_utf8(shop):
    # API Gateway passes a body that is not UTF-8 base64-encoded; the handler must verify those very bytes
    raw = woo_order(customer_note="GRUESSE").replace(b"GRUESSE", b"Gr\xfc\xdfe")  # Latin-1, not UTF-8
    status, answer = post("woocommerce", raw, woo_headers(raw))
    assert status == 400 and answer["message"] == "body is not UTF-8 text"  # signed correctly, then refused as text


# ------------------------------------------------------------------ Shopware 6


def shopware_body(*, event: str = "checkout.order.placed", event_id: str = "0193a8c4f2a07e1b9e1c3b6e2f0d9a11", **order):
    envelope = json.loads((FIXTURES / "shopware" / "checkout.order.placed.json").read_text())
    envelope["data"]["event"] = event
    envelope["data"]["payload"]["order"].update(order)
    envelope["source"]["eventId"] = event_id
    envelope["timestamp"] = int(time.time())
    return json.dumps(envelope, ensure_ascii=False).encode()


def shopware_headers(raw: bytes) -> dict[str, str]:
    return {"shopware-shop-signature": sign_hex(SECRETS["shopware"], raw), "sw-version": "6.6.9.0"}


def test_signed_shopware_order_is_imported_and_state_events_move_it(shop):
    raw = shopware_body()
    status, answer = post("shopware", raw, shopware_headers(raw))
    assert status == 202 and answer["events"] == ["order.imported", "order.paid"]  # it arrives paid
    doc = stored("0193a8c4f1c47163a8a5f2b7e4d3c201")
    assert (doc["number"], doc["status"], doc["shipping_address"]["country"]) == ("10042", "paid", "AT")
    assert doc["customer"]["last_name"] == "Schäfer"

    shipped = shopware_body(
        event="state_enter.order_delivery.state.shipped", event_id="e-2", updatedAt="2026-11-24T10:00:00.000+00:00"
    )
    status, answer = post("shopware", shipped, shopware_headers(shipped))
    assert status == 202 and answer["events"] == ["order.status_changed", "order.shipped"]
    # the same event delivered again is a duplicate
    assert post("shopware", shipped, shopware_headers(shipped))[1]["duplicate"] is True


def test_stale_shopware_delivery_is_401(shop):
    envelope = json.loads(shopware_body())
    envelope["timestamp"] = int(time.time()) - 7 * 3600
    raw = json.dumps(envelope).encode()
    status, answer = post("shopware", raw, shopware_headers(raw))
    assert status == 401 and "stale webhook" in answer["message"]
    assert nothing_written()


def test_real_shopware_product_webhook_is_422_naming_the_missing_order(shop):
    raw = (REAL / "shopware" / "webhook-envelope.json").read_bytes()
    status, answer = post("shopware", raw, shopware_headers(raw))
    assert status == 422
    assert [p["path"] for p in answer["problems"]] == ["$.data.payload.order"]
    assert "product.written" in answer["problems"][0]["reason"]
    assert nothing_written()


# ------------------------------------------------------------------ Billbee


def billbee_order(**changes: Any) -> bytes:
    text = (REAL / "billbee" / "order.json").read_text()
    for key, value in changes.items():  # keep Billbee's decimals as they are: edit the text, not floats
        body = json.loads(text)
        body[key] = value
        text = json.dumps(body, ensure_ascii=False)
    return text.encode()


def test_billbee_order_with_the_api_key_is_imported_and_state_changes_fire_once(shop):
    first = billbee_order(State=1, PayedAt=None, ShippedAt=None)
    status, answer = post("billbee", first, {"Authorization": f"Bearer {shop.key}"})
    assert status == 202 and answer["events"] == ["order.imported"]
    doc = stored("100000186018330")
    assert (doc["number"], doc["channel"], doc["status"], doc["language"]) == ("Test", "avocadostore", "new", "de")
    assert doc["line_items"][0]["quantity"] == "12.0" and doc["total"] == "170.76"  # quantities are decimals

    paid = billbee_order(
        State=3, PayedAt="2022-08-18T10:00:00+00:00", ShippedAt=None, LastModifiedAt="2022-08-18T10:00:00+00:00"
    )
    status, answer = post("billbee", paid, {"Authorization": f"Bearer {shop.key}"})
    assert answer["events"] == ["order.status_changed", "order.paid"]
    # the same body again (Billbee has no delivery id): a duplicate, nothing fires twice
    assert post("billbee", paid, {"Authorization": f"Bearer {shop.key}"})[1]["duplicate"] is True


def test_billbee_without_the_key_is_401_and_nothing_is_written(shop):
    status, answer = post("billbee", billbee_order())
    assert status == 401 and "API key" in answer["message"]
    status, _ = post("billbee", billbee_order(), {"Authorization": "Bearer rw_not-a-key"})
    assert status == 401
    assert nothing_written()


def test_two_platform_orders_of_one_customer_land_on_one_record(shop):
    # Given the same buyer orders once through Shopify and once through WooCommerce (same e-mail address)
    one = shopify_order(email="John.Doe@example.com ")
    two = woo_order()
    post("shopify", one, shopify_headers(one))
    post("woocommerce", two, woo_headers(two))
    [customer] = list(CustomerItem.query("demo"))
    assert customer.order_count == 2
