"""Shop adapters, pure: real platform bodies to canonical orders, status tables, signatures, secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from regelwerk.errors import InvalidInput, NotFound, ServiceUnavailable, Unauthorized
from regelwerk.ingest.adapters import PLATFORMS, adapter_for, billbee, shopify, shopware, signatures, woocommerce
from regelwerk.model.shop import Shop
from tests import FIXTURES

REAL = FIXTURES / "realworld"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def shop(**platforms: Any) -> Shop:
    return Shop.model_validate({"id": "demo", "name": "Demo", "platforms": platforms})


def shopify_body() -> bytes:
    """The webhook body Shopify sends: the inner order object of the REST fixture."""
    return json.dumps(json.loads((REAL / "shopify" / "order.wrapped.json").read_text())["order"]).encode()


def loads(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal)  # as the adapters read bodies: never float


def shopware_envelope(**order_changes: Any) -> dict[str, Any]:
    envelope = loads((FIXTURES / "shopware" / "checkout.order.placed.json").read_text())
    envelope["data"]["payload"]["order"].update(order_changes)
    return envelope


def problems(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.path: p.reason for p in exc.value.problems}


# ------------------------------------------------------------------ real samples to canonical orders


def test_shopify_sample_maps_to_the_canonical_order():
    order = shopify.parse(shop(), {"x-shopify-topic": "orders/create"}, shopify_body()).order

    assert (order.id, order.number, order.channel, order.status) == ("450789469", "1001", "shopify", "new")
    assert order.customer.email == "bob.norman@hostmail.com"
    assert (order.customer.id, order.customer.first_name, order.customer.last_name) == ("207119551", "Bob", "Norman")
    assert order.currency == "USD"
    assert (order.total, order.subtotal, order.tax_total, order.shipping_total) == (
        Decimal("409.94"),
        Decimal("398.00"),
        Decimal("11.94"),
        Decimal("0.00"),
    )
    assert order.shipping_address is not None and order.shipping_address.country == "US"
    assert order.shipping_address.street == "Chestnut Street 92" and order.shipping_address.state == "Kentucky"
    assert order.created_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.paid_at is None and order.shipped_at is None  # authorized, unfulfilled (the fulfilment failed)
    # taxes_included is false and the lines carry no tax lines of their own: the order's 11.94 state
    # tax is not spread over the unit prices (that made 199.00 into 210.94); each line is what
    # Shopify says it is, and the sample (3 x 199.00 against a subtotal of 398.00) does not add up,
    # which the order says instead of inventing a discount
    assert [(i.sku, i.name, i.quantity, i.unit_price, i.total, i.tax_rate) for i in order.line_items] == [
        ("IPOD2008GREEN", "IPod Nano - 8gb - green", 1, Decimal("199.00"), Decimal("199.00"), Decimal("0")),
        ("IPOD2008RED", "IPod Nano - 8gb - red", 1, Decimal("199.00"), Decimal("199.00"), Decimal("0")),
        ("IPOD2008BLACK", "IPod Nano - 8gb - black", 1, Decimal("199.00"), Decimal("199.00"), Decimal("0")),
    ]
    assert order.discrepancy() is not None and "409.94" in order.discrepancy()


def test_shopify_wrapped_and_inner_body_give_the_same_order_and_the_inner_one_is_raw():
    wrapped = (REAL / "shopify" / "order.wrapped.json").read_bytes()
    a = shopify.parse(shop(), {}, wrapped)
    b = shopify.parse(shop(), {}, shopify_body())
    assert a.order == b.order
    assert a.raw is not None and a.raw["gateway"] == "authorize_net" and "order" not in a.raw


def test_shopify_ids_beyond_2_to_the_53_stay_exact_and_amounts_are_never_float():
    raw = shopify_body().replace(b'"id": 450789469', b'"id": 9007199254740993')
    delivery = shopify.parse(shop(), {"x-shopify-webhook-id": "b54557e4"}, raw)
    assert delivery.order.id == "9007199254740993"
    assert delivery.delivery_key == "b54557e4"
    assert isinstance(delivery.order.total, Decimal)
    assert isinstance(delivery.raw["tax_lines"][0]["rate"], Decimal)  # type: ignore[index]


def test_shopify_taxes_included_keeps_the_price_and_line_tax_lines_win():
    body = loads(shopify_body())
    body["taxes_included"] = True
    body["line_items"][0]["tax_lines"] = [{"price": "31.77", "rate": Decimal("0.19"), "title": "MwSt"}]
    order = shopify.to_order(shop(), body)
    assert (order.line_items[0].unit_price, order.line_items[0].tax_rate) == (Decimal("199.00"), Decimal("19"))
    assert order.line_items[1].tax_rate == Decimal("6")


def test_woocommerce_sample_maps_to_the_canonical_order():
    delivery = woocommerce.parse(
        shop(), {"x-wc-webhook-topic": "order.created"}, (REAL / "woocommerce" / "order.json").read_bytes()
    )
    order = delivery.order

    assert (order.id, order.number, order.channel, order.status) == ("727", "727", "woocommerce", "paid")
    assert order.customer.email == "john.doe@example.com"
    assert order.customer.id is None  # customer_id 0: a guest
    assert order.currency == "USD"
    assert (order.total, order.shipping_total, order.tax_total) == (Decimal("29.35"), Decimal("10.00"), Decimal("1.35"))
    assert order.subtotal == Decimal("19.35")  # line items, tax included
    assert order.shipping_address is not None and order.shipping_address.country == "US"
    assert order.shipping_address.city == "San Francisco" and order.shipping_address.zip == "94103"
    # date_created_gmt, not the site's local time
    assert order.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert [(i.sku, i.name, i.quantity, i.unit_price, i.tax_rate) for i in order.line_items] == [
        (None, "Woo Single #1", 2, Decimal("3.225"), Decimal("7.50")),
        ("Bar3", "Ship Your Idea – Color: Black, Size: M Test", 1, Decimal("12.90"), Decimal("7.50")),
    ]
    assert delivery.topic == "order.created" and delivery.raw is not None and delivery.raw["order_key"]


def test_woocommerce_deduplicates_on_topic_and_body_not_on_the_per_attempt_delivery_id():
    raw = (REAL / "woocommerce" / "order.json").read_bytes()
    first = woocommerce.parse(shop(), {"x-wc-webhook-topic": "order.updated", "x-wc-webhook-delivery-id": "a1"}, raw)
    retry = woocommerce.parse(shop(), {"x-wc-webhook-topic": "order.updated", "x-wc-webhook-delivery-id": "b2"}, raw)
    created = woocommerce.parse(shop(), {"x-wc-webhook-topic": "order.created", "x-wc-webhook-delivery-id": "a1"}, raw)
    assert first.delivery_key == retry.delivery_key
    assert created.delivery_key != first.delivery_key


def test_woocommerce_ping_is_recognised_and_nothing_else_is():
    assert woocommerce.parse(shop(), {}, b"webhook_id=42").as_dict() == {  # type: ignore[union-attr]
        "ping": True,
        "platform": "woocommerce",
        "webhook_id": "42",
    }
    with pytest.raises(Exception, match="malformed JSON"):
        woocommerce.parse(shop(), {}, b"webhook_id=42&order=1")


def test_billbee_sample_maps_to_the_canonical_order():
    delivery = billbee.parse(shop(), {}, (REAL / "billbee" / "order.json").read_bytes())
    order = delivery.order

    # State 1 (ordered), but Billbee recorded the shipment: the order is shipped, not new
    assert (order.id, order.number, order.status) == ("100000186018330", "Test", "shipped")
    assert order.channel == "avocadostore"  # the sales channel Billbee imported it from
    assert order.customer.email == "admin@domain.tld"  # the invoice address's, not the marketplace buyer's
    assert (order.customer.id, order.customer.language, order.language) == ("100000150176895", "de", "de")
    assert order.currency == "EUR"
    assert (order.total, order.shipping_total, order.subtotal, order.tax_total) == (
        Decimal("170.76"),
        Decimal("12.0"),
        Decimal("158.76"),
        Decimal("25.35"),
    )
    assert order.shipping_address is not None
    assert (order.shipping_address.country, order.shipping_address.street, order.shipping_address.house_number) == (
        "DE",
        "Str",
        "hausnummer",
    )
    assert order.paid_at == datetime(2022, 8, 10, tzinfo=UTC) and order.shipped_at == datetime(2022, 8, 17, tzinfo=UTC)
    assert [(i.sku, i.name, i.quantity, i.unit_price, i.tax_rate) for i in order.line_items] == [
        ("TESTBESTAND", "Test Bestandsabgleich", 12, Decimal("13.23"), Decimal("19.0"))
    ]
    assert order.tags == ["test"]
    assert all(isinstance(v, Decimal) for v in (order.total, order.line_items[0].unit_price))


def test_billbee_api_answer_wrapping_is_accepted_and_unicode_names_survive():
    text = (REAL / "billbee" / "order.json").read_text()
    text = text.replace('"FirstName": "Vorname"', '"FirstName": "Jörg"')
    text = text.replace('"Street": "Str"', '"Street": "Königstraße"')
    raw = ('{"ErrorMessage": null, "ErrorCode": 0, "Data": ' + text + "}").encode()
    order = billbee.parse(shop(), {"idempotency-key": "bb-1"}, raw).order
    assert order.billing_address is not None
    assert (order.billing_address.name, order.billing_address.street) == ("Jörg Nachname", "Königstraße")
    assert order.customer.first_name == "Jörg"


def test_shopware_order_envelope_maps_to_the_canonical_order():
    raw = (FIXTURES / "shopware" / "checkout.order.placed.json").read_bytes()
    delivery = shopware.parse(shop(), {}, raw)
    order = delivery.order

    assert (order.id, order.number, order.channel, order.status) == (
        "0193a8c4f1c47163a8a5f2b7e4d3c201",
        "10042",
        "shopware",
        "paid",
    )
    assert order.customer.email == "joerg.schaefer@example.de"
    assert (order.customer.first_name, order.customer.last_name) == ("Jörg", "Schäfer")
    assert order.currency == "EUR"
    assert (order.total, order.subtotal, order.shipping_total, order.tax_total) == (
        Decimal("65.5"),
        Decimal("60.0"),
        Decimal("5.5"),
        Decimal("7.29"),
    )
    assert order.billing_address is not None and order.billing_address.country == "DE"
    assert order.shipping_address is not None and order.shipping_address.country == "AT"  # delivery address wins
    assert order.shipping_address.street == "Mariahilfer Straße 3"
    assert order.paid_at == datetime(2026, 11, 23, 8, 15, 2, 500000, tzinfo=UTC)
    assert [(i.sku, i.name, i.quantity, i.unit_price, i.tax_rate) for i in order.line_items] == [
        ("ESP-1000", "Espresso Morgenrot, 1 kg Bohnen", 1, Decimal("32.5"), Decimal("7")),
        ("MUG-01", "Tasse „Guten Morgen“", 2, Decimal("13.75"), Decimal("19")),
    ]
    assert (delivery.delivery_key, delivery.topic) == ("0193a8c4f2a07e1b9e1c3b6e2f0d9a11", "checkout.order.placed")
    assert shopware.parse(shop(), {"x-shopware-event-id": "hdr-1"}, raw).delivery_key == "hdr-1"


def test_shopware_net_order_adds_the_line_tax_to_the_unit_price():
    env = shopware_envelope(taxStatus="net")
    order = shopware.to_order(shop(), shopware.Body(env["data"]["payload"]["order"], "$.o"), "checkout.order.placed")
    assert order.line_items[1].unit_price == Decimal("13.75") + Decimal("4.39") / 2


# ------------------------------------------------------------------ bodies that are not the platform's order


def test_real_shopware_product_envelope_is_422_naming_the_missing_order():
    with pytest.raises(InvalidInput) as exc:
        shopware.parse(shop(), {}, (REAL / "shopware" / "webhook-envelope.json").read_bytes())
    assert list(problems(exc)) == ["$.data.payload.order"]
    assert "'product.written' carries no order" in problems(exc)["$.data.payload.order"]


def test_shopify_body_without_money_fields_is_422_naming_each():
    body = loads(shopify_body())
    del body["currency"], body["total_price"]
    body["line_items"][1]["price"] = "zwölf"
    with pytest.raises(InvalidInput) as exc:
        shopify.to_order(shop(), body)
    found = problems(exc)
    assert found["$.currency"] == "required field is missing"
    assert found["$.total_price"] == "required field is missing"
    assert "not a decimal amount" in found["$.line_items[1].price"]


def test_absurd_amounts_are_422_not_a_crash():
    body = loads(shopify_body())
    body["line_items"][0]["price"] = "1e999999"
    with pytest.raises(InvalidInput) as exc:
        shopify.to_order(shop(), body)
    assert "out of range" in problems(exc)["$.line_items[0].price"]


def test_canonical_refusals_are_named_by_the_platform_field():
    body = loads((REAL / "woocommerce" / "order.json").read_text())
    body["billing"]["email"] = "not-an-address"
    body["shipping"]["country"] = "XX"
    with pytest.raises(InvalidInput) as exc:
        woocommerce.to_order(shop(), body)
    found = problems(exc)
    assert "$.billing.email" in found
    assert "unknown ISO 3166" in found["$.shipping.country"]


def test_an_address_without_country_is_named_but_a_blank_one_is_no_address():
    body = loads((REAL / "woocommerce" / "order.json").read_text())
    body["shipping"] = {k: "" for k in body["shipping"]}
    assert woocommerce.to_order(shop(), body).shipping_address is None
    body["shipping"]["city"] = "Leipzig"
    with pytest.raises(InvalidInput) as exc:
        woocommerce.to_order(shop(), body)
    assert "$.shipping.country" in problems(exc)


def test_billbee_fractional_quantity_is_kept_and_its_line_total_is_billbees():
    body = loads((REAL / "billbee" / "order.json").read_text())
    body["OrderItems"][0]["Quantity"] = Decimal("0.5")
    order = billbee.to_order(shop(), body)
    line = order.line_items[0]
    assert line.quantity == Decimal("0.5") and line.total == Decimal(str(body["OrderItems"][0]["TotalPrice"]))


def test_billbee_state_that_is_no_number_is_named():
    body = loads((REAL / "billbee" / "order.json").read_text())
    body["State"] = "paid"
    with pytest.raises(InvalidInput) as exc:
        billbee.to_order(shop(), body)
    assert "numeric order state" in problems(exc)["$.State"]


@pytest.mark.parametrize(
    ("dates", "status"),
    [
        ({"PayedAt": None, "ShippedAt": None}, "new"),
        ({"PayedAt": "2019-05-20T10:00:00", "ShippedAt": None}, "paid"),
        ({"PayedAt": "2019-05-20T10:00:00", "ShippedAt": "2019-05-21T10:00:00"}, "shipped"),
    ],
)
def test_billbee_state_1_reads_paid_and_shipped_from_the_dates(dates, status):
    body = loads((REAL / "billbee" / "order.json").read_text()) | {"State": 1} | dates
    assert billbee.to_order(shop(), body).status == status


def test_topics_that_carry_no_order_are_refused():
    with pytest.raises(InvalidInput) as exc:
        shopify.parse(shop(), {"x-shopify-topic": "products/update"}, shopify_body())
    assert "X-Shopify-Topic" in problems(exc)
    with pytest.raises(InvalidInput):
        woocommerce.parse(shop(), {"x-wc-webhook-topic": "product.updated"}, b"{}")


def test_unknown_platform_is_not_found_and_every_known_one_loads():
    with pytest.raises(NotFound, match="unknown platform 'magento'"):
        adapter_for("magento")
    for name in PLATFORMS:
        adapter = adapter_for(name)
        assert callable(adapter.authenticate) and callable(adapter.parse)


# ------------------------------------------------------------------ status tables


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"financial_status": "pending"}, ("pending", "new")),
        ({"financial_status": "authorized"}, ("authorized", "new")),
        ({"financial_status": "paid"}, ("paid", "paid")),
        ({"financial_status": "partially_paid"}, ("partially_paid", "partially_paid")),
        ({"financial_status": "partially_refunded"}, ("partially_refunded", "paid")),
        ({"financial_status": "refunded"}, ("refunded", "refunded")),
        ({"financial_status": "voided"}, ("voided", "cancelled")),
        ({"financial_status": "expired"}, ("expired", "on_hold")),
        ({"financial_status": "paid", "fulfillment_status": "partial"}, ("partial", "partially_shipped")),
        ({"financial_status": "paid", "fulfillment_status": "fulfilled"}, ("fulfilled", "shipped")),
        (
            {"financial_status": "paid", "fulfillment_status": "fulfilled", "closed_at": "2026-11-30T10:00:00Z"},
            ("closed", "completed"),
        ),
        ({"financial_status": "paid", "cancelled_at": "2026-11-24T10:00:00Z"}, ("cancelled", "cancelled")),
        ({"financial_status": None}, ("", "new")),
    ],
)
def test_shopify_status_table(changes, expected):
    body = {"financial_status": None, "fulfillment_status": None, "cancelled_at": None, "closed_at": None} | changes
    assert shopify.status_of(body) == expected


def test_shopify_paid_and_fulfilled_set_paid_at_and_shipped_at():
    body = loads(shopify_body())
    body |= {"financial_status": "paid", "fulfillment_status": "fulfilled", "processed_at": "2008-01-10T11:05:00-05:00"}
    body["fulfillments"][0]["status"] = "success"
    order = shopify.to_order(shop(), body)
    assert order.status == "shipped"
    assert order.paid_at == datetime(2008, 1, 10, 16, 5, tzinfo=UTC)
    assert order.shipped_at == datetime(2014, 1, 22, 20, 58, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", "new"),
        ("processing", "paid"),
        ("on-hold", "on_hold"),
        ("completed", "completed"),
        ("cancelled", "cancelled"),
        ("refunded", "refunded"),
        ("failed", "on_hold"),
        ("checkout-draft", "new"),
        ("wc-shipped", "shipped"),
        ("awaiting-shipment", "awaiting-shipment"),
    ],
)
def test_woocommerce_status_table(status, expected):
    assert woocommerce.status_of(status) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (1, "new"),
        (2, "new"),
        (3, "paid"),
        (4, "shipped"),
        (5, "on_hold"),
        (6, "cancelled"),
        (7, "completed"),
        (8, "cancelled"),
        (9, "archived"),
        (10, "completed"),
        (11, "on_hold"),
        (12, "on_hold"),
        (13, "packed"),
        (14, "new"),
        (15, "on_hold"),
        (16, "in_fulfillment"),
        (17, "returned"),
        (42, "state_42"),
    ],
)
def test_billbee_state_table(state, expected):
    assert billbee.status_of(state) == (str(state), expected)


@pytest.mark.parametrize(
    ("states", "event", "expected"),
    [
        ({"order": "open", "transaction": "open", "delivery": "open"}, None, "new"),
        ({"order": "open", "transaction": "paid", "delivery": "open"}, None, "paid"),
        ({"order": "open", "transaction": "paid_partially", "delivery": "open"}, None, "partially_paid"),
        ({"order": "in_progress", "transaction": "paid", "delivery": "shipped"}, None, "shipped"),
        ({"order": "open", "transaction": "paid", "delivery": "shipped_partially"}, None, "partially_shipped"),
        ({"order": "completed", "transaction": "paid", "delivery": "shipped"}, None, "completed"),
        ({"order": "open", "transaction": "refunded", "delivery": "returned"}, None, "refunded"),
        ({"order": "open", "transaction": "failed", "delivery": "open"}, None, "on_hold"),
        (
            {"order": "open", "transaction": "paid", "delivery": "open"},
            "state_enter.order.state.cancelled",
            "cancelled",
        ),
        (
            {"order": "open", "transaction": "open", "delivery": "open"},
            "state_enter.order_transaction.state.paid",
            "paid",
        ),
        (
            {"order": "open", "transaction": "paid", "delivery": "open"},
            "state_enter.order_delivery.state.shipped",
            "shipped",
        ),
    ],
)
def test_shopware_status_from_its_three_state_machines(states, event, expected):
    order = shopware_envelope(
        stateMachineState={"technicalName": states["order"]},
        transactions=[{"stateMachineState": {"technicalName": states["transaction"]}}],
        deliveries=[{"stateMachineState": {"technicalName": states["delivery"]}}],
    )["data"]["payload"]["order"]
    body = shopware.Body(order)
    assert shopware.status_of(shopware.states_of(body, event))[1] == expected


def test_a_shops_own_status_mapping_wins_over_the_table():
    custom = shop(billbee={"statuses": {"13": "paid", "9": "completed"}})
    body = loads((REAL / "billbee" / "order.json").read_text())
    assert billbee.to_order(custom, body | {"State": 13}).status == "paid"
    assert billbee.to_order(custom, body | {"State": 9}).status == "completed"
    assert billbee.to_order(custom, body | {"State": 16}).status == "in_fulfillment"


# ------------------------------------------------------------------ signatures and secrets

SHOPIFY_VECTOR = (
    "test-webhook-secret",
    b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}',
    "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw=",
)


def test_published_shopify_test_vector():
    secret, body, signature = SHOPIFY_VECTOR
    assert signatures.sign_base64(secret, body) == signature
    digest = signatures.decode_signature(signature, "base64", "X-Shopify-Hmac-Sha256")
    signatures.verify(signed_shop("shopify"), "shopify", body, digest, header="X-Shopify-Hmac-Sha256", now=NOW)


def test_hex_signature_is_the_same_mac():
    secret, body, signature = SHOPIFY_VECTOR
    assert bytes.fromhex(signatures.sign_hex(secret, body)) == signatures.decode_signature(signature, "base64", "h")


@pytest.mark.parametrize("value", [None, "", "not base64!", "c2hvcnQ="])
def test_missing_or_malformed_signature_is_401_naming_the_header(value):
    with pytest.raises(Unauthorized, match="X-WC-Webhook-Signature"):
        signatures.decode_signature(value, "base64", "X-WC-Webhook-Signature")


def test_tampered_body_is_refused():
    secret, body, signature = SHOPIFY_VECTOR
    digest = signatures.decode_signature(signature, "base64", "X-Shopify-Hmac-Sha256")
    tampered = body.replace(b"123.45", b"1.45")
    with pytest.raises(Unauthorized, match="does not match the body"):
        signatures.verify(signed_shop("shopify"), "shopify", tampered, digest, header="X-Shopify-Hmac-Sha256", now=NOW)


@pytest.fixture
def secrets_env(monkeypatch):
    monkeypatch.setenv("UNIT_NEW_SECRET", "new-secret")
    monkeypatch.setenv("UNIT_OLD_SECRET", "test-webhook-secret")


def signed_shop(platform: str, until: datetime | None = None) -> Shop:
    if until is None:
        return shop(**{platform: {"secret": {"env": "UNIT_SHOPIFY_VECTOR"}}})
    return shop(
        **{
            platform: {
                "secret": {"env": "UNIT_NEW_SECRET"},
                "previous_secret": {"env": "UNIT_OLD_SECRET"},
                "previous_valid_until": until.isoformat(),
            }
        }
    )


@pytest.fixture(autouse=True)
def vector_secret(monkeypatch):
    monkeypatch.setenv("UNIT_SHOPIFY_VECTOR", "test-webhook-secret\n")  # a pasted newline is dropped


def test_previous_secret_is_accepted_within_the_grace_period_and_refused_after(secrets_env):
    _, body, signature = SHOPIFY_VECTOR  # signed with the old secret
    digest = signatures.decode_signature(signature, "base64", "X-Shopify-Hmac-Sha256")
    within = signed_shop("shopify", until=NOW + timedelta(minutes=30))
    signatures.verify(within, "shopify", body, digest, header="X-Shopify-Hmac-Sha256", now=NOW)

    after = signed_shop("shopify", until=NOW - timedelta(seconds=1))
    with pytest.raises(Unauthorized, match="previous shopify secret, accepted only until"):
        signatures.verify(after, "shopify", body, digest, header="X-Shopify-Hmac-Sha256", now=NOW)

    fresh = signatures.decode_signature(signatures.sign_base64("new-secret", body), "base64", "h")
    signatures.verify(after, "shopify", body, fresh, header="X-Shopify-Hmac-Sha256", now=NOW)


def test_shop_without_the_platform_secret_is_401_and_an_unset_variable_is_503(monkeypatch):
    _, body, signature = SHOPIFY_VECTOR
    digest = signatures.decode_signature(signature, "base64", "h")
    with pytest.raises(Unauthorized, match=r"platforms.shopify.secret"):
        signatures.verify(shop(), "shopify", body, digest, header="h", now=NOW)
    monkeypatch.delenv("UNIT_SHOPIFY_VECTOR")
    with pytest.raises(ServiceUnavailable, match="shopify secret cannot be read"):
        signatures.verify(signed_shop("shopify"), "shopify", body, digest, header="h", now=NOW)
    with pytest.raises(signatures.SecretUnavailable, match="UNIT_SHOPIFY_VECTOR is not set"):  # what the log says
        signatures.resolve(signed_shop("shopify").platforms["shopify"].secret)  # type: ignore[arg-type]


def test_ssm_secret_is_read_decrypted_once_and_cached(monkeypatch):
    calls: list[dict[str, Any]] = []

    class FakeSsm:
        def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"Parameter": {"Value": "test-webhook-secret"}}

    monkeypatch.setattr(signatures, "client", lambda _service: FakeSsm())
    signatures.clear_cache()
    _, body, signature = SHOPIFY_VECTOR
    digest = signatures.decode_signature(signature, "base64", "h")
    by_ssm = shop(shopify={"secret": {"ssm": "/regelwerk/demo/shopify"}})
    signatures.verify(by_ssm, "shopify", body, digest, header="h", now=NOW)
    signatures.verify(by_ssm, "shopify", body, digest, header="h", now=NOW)
    assert calls == [{"Name": "/regelwerk/demo/shopify", "WithDecryption": True}]
    signatures.clear_cache()


def test_secrets_in_shop_yaml_must_be_references():
    with pytest.raises(Exception, match="plain-text secrets are refused"):
        shop(shopify={"secret": "shpss_123"})
    with pytest.raises(Exception, match="secret is required"):
        shop(woocommerce={})
    with pytest.raises(Exception, match="previous_valid_until is required"):
        shop(shopware={"secret": {"env": "A"}, "previous_secret": {"env": "B"}})
    with pytest.raises(Exception, match="AWS Lambda's own variables"):
        shop(shopify={"secret": {"env": "AWS_SECRET_ACCESS_KEY"}})


@pytest.mark.parametrize(
    ("sent", "ok"),
    [
        (NOW - timedelta(minutes=1), True),
        (NOW - timedelta(hours=5), True),  # Shopware's 4-hour retry still gets in
        (NOW - timedelta(hours=7), False),
        (NOW + timedelta(minutes=10), False),
    ],
)
def test_shopware_timestamp_window(sent, ok):
    if ok:
        shopware.check_timestamp(int(sent.timestamp()), NOW)
    else:
        with pytest.raises(Unauthorized):
            shopware.check_timestamp(int(sent.timestamp()), NOW)


def test_shopware_implausible_or_absent_timestamp_is_not_checked():
    shopware.check_timestamp(123123123, NOW)  # the documentation's sample value
    shopware.check_timestamp(None, NOW)


# ------------------------------------------------------------------ the raw body in queued messages


def _results(actions: int, raw: dict[str, Any]) -> list:
    outcome = SimpleNamespace(actions=[SimpleNamespace(waiting=False) for _ in range(actions)])
    return [("order.imported", {"event": {"raw": raw}}, [outcome])]


def test_raw_body_rides_with_messages_until_it_is_too_big():
    from regelwerk.ingest.orders import _raw_for_messages

    small = {"note": "x" * 1000}
    assert _raw_for_messages(_results(3, small), small)[0][1]["event"]["raw"] is small
    big = {"note": "x" * 70_000}
    event = _raw_for_messages(_results(1, big), big)[0][1]["event"]
    assert event["raw"] is None and "too large" in event["raw_omitted"]
    medium = {"note": "x" * 40_000}
    assert _raw_for_messages(_results(5, medium), medium)[0][1]["event"]["raw"] is None  # 5 copies: over budget
