"""Stripe's invoice and subscription webhooks through invoice-status, signed as Stripe signs them;
and the canonical invoice event on /events/regelwerk."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from regelwerk.model.invoice import Invoice
from regelwerk.store.customers import customer_id_of_email
from regelwerk.store.rules import save_rule, save_template
from regelwerk.store.tables import CustomerItem, InvoiceItem, OrderItem, RunItem
from tests.conftest import STACK, order_event, sent_emails

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "realworld"
SECRET = "whsec_morgenrot_test_5f1c9a"
PATH = "/v1/shops/demo/events/stripe"


def configure(platforms: dict[str, Any]) -> None:
    """Set the demo shop's platforms (as `regelwerk apply` would from shop.yaml) and drop the warm caches."""
    from regelwerk.model.shop import Shop
    from regelwerk.store.shops import clear_cache, get_shop, save_shop

    save_shop(Shop.model_validate(get_shop("demo").model_dump() | {"platforms": platforms}))
    clear_cache()


@pytest.fixture
def shop(demo_shop, monkeypatch):
    """The demo shop with a Stripe signing secret, referenced by an environment variable."""
    monkeypatch.setenv("TEST_STRIPE_SECRET", SECRET)
    configure({"stripe": {"secret": {"env": "TEST_STRIPE_SECRET"}}})
    return demo_shop


def real_invoice(**changes: Any) -> dict[str, Any]:
    """The invoice object of Stripe's real invoice.payment_failed sample (pay-rails/pay)."""
    data = json.loads((REAL / "stripe" / "invoice.payment_failed.data.json").read_text())
    return data["object"] | changes


def event(event_type: str, obj: dict[str, Any], *, event_id: str = "evt_1RHNtjBCyp3mYB9L", created: int = 0) -> bytes:
    """A webhook body as Stripe posts it: the event envelope around the object."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": created or int(time.time()),
            "data": {"object": obj, "previous_attributes": None},
            "livemode": True,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    ).encode()


def signature(raw: bytes, *, secret: str = SECRET, t: int | None = None) -> str:
    """hex HMAC-SHA256 of "<t>.<raw body>", computed here independently of the adapter."""
    t = int(time.time()) if t is None else t
    return hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()


def signed(raw: bytes, *, secret: str = SECRET, t: int | None = None) -> dict[str, str]:
    t = int(time.time()) if t is None else t
    return {"Stripe-Signature": f"t={t},v1={signature(raw, secret=secret, t=t)}"}


def post(raw: bytes, headers: dict[str, str] | None = None, path: str = PATH) -> tuple[int, dict[str, Any]]:
    hdrs = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0", **(headers or {})}
    status, _, answer = STACK.invoke_http("POST", path, hdrs, raw)
    return status, json.loads(answer or b"{}")


def stored(invoice_id: str = "in_1234") -> Invoice:
    return Invoice.model_validate_json(InvoiceItem.get("demo", invoice_id).document)


def nothing_written() -> bool:
    return not any(list(table.query("demo")) for table in (InvoiceItem, RunItem, OrderItem, CustomerItem))


def paid_rule() -> None:
    save_template(
        "demo",
        "stripe-paid",
        "de",
        {"subject": "Zahlung für {{ invoice.number }} erhalten", "text": "Betrag: {{ invoice.amount | money }}"},
    )
    save_rule(
        "demo",
        {
            "id": "stripe-paid",
            "name": "Stripe invoice paid",
            "trigger": {"event": "invoice.paid"},
            "actions": [{"type": "email", "template": "stripe-paid", "to": "owner"}],
        },
    )


PAID_AT = 1745440000


def paid_invoice() -> dict[str, Any]:
    transitions = real_invoice()["status_transitions"] | {"paid_at": PAID_AT}
    return real_invoice(status="paid", amount_paid=24900, amount_remaining=0, status_transitions=transitions)


# ------------------------------------------------------------------ invoices


def test_real_payment_failed_event_stores_the_open_invoice_with_exact_amounts(shop):
    # Given Stripe's real invoice.payment_failed body, signed with the shop's secret
    raw = event("invoice.payment_failed", real_invoice())
    # When Stripe posts it
    status, answer = post(raw, signed(raw))

    # Then the invoice is stored as the canonical invoice, open, its amounts exact
    assert status == 202, answer
    # a failed charge never announces the invoice as sent (a rule e-mailing invoices sent one at a
    # failed charge): it fires invoice.payment_failed only, even the first time the invoice is seen
    assert answer["events"] == ["invoice.payment_failed"]
    invoice = stored()
    assert invoice.status == "open"
    assert invoice.amount == Decimal("249.00") and str(invoice.amount) == "249.00"
    assert invoice.amount_paid == Decimal("0.00")
    assert (invoice.number, invoice.currency) == ("F612594F-0002", "USD")
    assert invoice.issued_at == datetime.fromtimestamp(1745437578, UTC)  # effective_at
    assert invoice.due_at == invoice.issued_at + timedelta(days=14)  # no due_date: charged automatically
    assert invoice.payment_url == "https://invoice.stripe.com/"
    assert invoice.customer_id == customer_id_of_email("demo", "customer@example.org")
    # the buyer as the invoice names them, kept with it
    assert (invoice.customer_email, invoice.customer_name) == ("customer@example.org", "Example Customer")
    assert invoice.billing_address is not None
    assert (invoice.billing_address.zip, invoice.billing_address.country) == ("94587", "US")
    item = InvoiceItem.get("demo", "in_1234")
    assert item.open_shop == "demo"  # in the open-by-due index, for dunning
    run = shop.run(answer["run_id"])
    assert run["platform"] == "stripe" and run["invoice_id"] == "in_1234"


def test_invoice_paid_fires_the_paid_rule_once(shop):
    paid_rule()
    finalized = event("invoice.finalized", real_invoice(), event_id="evt_finalized")
    assert post(finalized, signed(finalized))[1]["events"] == ["invoice.sent"]

    raw = event("invoice.paid", paid_invoice(), event_id="evt_paid")
    status, answer = post(raw, signed(raw))
    shop.drain()

    assert status == 202
    assert answer["events"] == ["invoice.paid"] and answer["rules_fired"] == ["stripe-paid"]
    invoice = stored()
    assert invoice.status == "paid" and invoice.amount_paid == Decimal("249.00")
    assert invoice.paid_at == datetime.fromtimestamp(PAID_AT, UTC)
    assert InvoiceItem.get("demo", "in_1234").open_shop is None  # out of the dunning index
    [mail] = sent_emails()
    assert mail["To"] == "inhaberin@morgenrot.example"
    assert mail["Subject"] == "Zahlung für F612594F-0002 erhalten"
    assert "249,00" in mail.get_body(("plain",)).get_content()


def test_invoice_rules_see_the_shops_customer_with_the_invoice_email(shop):
    # Given Anna ordered in the shop, and her Stripe invoice carries her e-mail address
    assert shop.post(order_event(1))[0] == 202
    save_template("demo", "stripe-thanks", "de", {"subject": "Danke, {{ customer.first_name }}", "text": "Bezahlt."})
    save_rule(
        "demo",
        {
            "id": "stripe-thanks",
            "name": "Thank the customer for paying",
            "trigger": {"event": "invoice.paid"},
            "when": {"field": "customer.order_count", "op": "gte", "value": 1},
            "actions": [{"type": "email", "template": "stripe-thanks", "to": "customer"}],
        },
    )
    raw = event("invoice.paid", paid_invoice() | {"customer_email": "Anna.Mueller@example.de"})
    # When Stripe posts that it was paid
    status, answer = post(raw, signed(raw))
    shop.drain()
    # Then the rule finds her as the shop knows her, and writes to her
    assert status == 202 and "stripe-thanks" in answer["rules_fired"]
    assert stored().customer_id == OrderItem.get("demo", "9007199254740993").customer_id
    [mail] = [m for m in sent_emails() if m["Subject"] == "Danke, Anna"]
    assert mail["To"] == "anna.mueller@example.de"


def test_payment_failed_on_an_open_invoice_is_stored_and_fires_only_payment_failed(shop):
    paid_rule()
    finalized = event("invoice.finalized", real_invoice(), event_id="evt_a")
    post(finalized, signed(finalized))
    failed = event("invoice.payment_failed", real_invoice(attempt_count=2), event_id="evt_b")
    status, answer = post(failed, signed(failed))
    assert status == 202 and answer["events"] == ["invoice.payment_failed"] and answer["rules_fired"] == []
    assert stored().status == "open"
    # and a late invoice.finalized after it announces nothing either
    late = event("invoice.finalized", real_invoice(), event_id="evt_c")
    assert post(late, signed(late))[1]["events"] == []


def test_a_late_event_does_not_move_a_paid_invoice_back(shop):
    # Stripe does not deliver in order: invoice.paid may arrive before invoice.finalized
    paid_rule()
    paid = event("invoice.paid", paid_invoice(), event_id="evt_paid_first")
    assert post(paid, signed(paid))[1]["events"] == ["invoice.sent", "invoice.paid"]
    late = event("invoice.finalized", real_invoice(), event_id="evt_finalized_late")
    status, answer = post(late, signed(late))
    assert status == 202 and answer["events"] == []
    assert stored().status == "paid" and InvoiceItem.get("demo", "in_1234").open_shop is None


@pytest.mark.parametrize(
    ("event_type", "status"), [("invoice.voided", "void"), ("invoice.marked_uncollectible", "uncollectible")]
)
def test_voided_and_uncollectible_invoices_leave_the_open_ones(shop, event_type, status):
    finalized = event("invoice.finalized", real_invoice(), event_id="evt_open")
    post(finalized, signed(finalized))
    raw = event(event_type, real_invoice(status=status), event_id="evt_closed")
    code, answer = post(raw, signed(raw))
    assert code == 202 and answer["events"] == []
    assert stored().status == status and InvoiceItem.get("demo", "in_1234").open_shop is None


def test_zero_decimal_currency_due_date_and_order_link(shop):
    obj = real_invoice(currency="jpy", total=5000, amount_paid=0, due_date=1746000000, metadata={"order_id": "1001"})
    raw = event("invoice.sent", obj)
    assert post(raw, signed(raw))[0] == 202
    invoice = stored()
    assert (invoice.currency, invoice.amount, invoice.amount_paid) == ("JPY", Decimal("5000"), Decimal("0"))
    assert invoice.due_at == datetime.fromtimestamp(1746000000, UTC)
    assert invoice.order_id == "1001"


def test_invoice_without_a_number_is_422_naming_stripes_field(shop):
    raw = event("invoice.finalized", real_invoice(number=None, total="249.00"))
    status, answer = post(raw, signed(raw))
    assert status == 422
    assert {p["path"] for p in answer["problems"]} == {"$.data.object.number", "$.data.object.total"}
    assert nothing_written()


# ------------------------------------------------------------------ signatures


def _tampered(raw: bytes) -> tuple[bytes, dict[str, str]]:
    return raw.replace(b"24900", b"2490"), signed(raw)


REFUSALS = {
    "tampered body": (_tampered, "does not match the body"),
    "wrong secret": (lambda raw: (raw, signed(raw, secret="whsec_someone_else")), "does not match the body"),
    "missing header": (lambda raw: (raw, {}), "missing signature: the Stripe-Signature header is required"),
    "stale timestamp": (lambda raw: (raw, signed(raw, t=int(time.time()) - 301)), "stale Stripe-Signature"),
    "future timestamp": (lambda raw: (raw, signed(raw, t=int(time.time()) + 301)), "in the future"),
    "no v1": (lambda raw: (raw, {"Stripe-Signature": f"t={int(time.time())}"}), "malformed Stripe-Signature"),
    "no t": (lambda raw: (raw, {"Stripe-Signature": f"v1={signature(raw)}"}), "malformed Stripe-Signature"),
    "not hex": (lambda raw: (raw, {"Stripe-Signature": f"t={int(time.time())},v1=zz"}), "malformed Stripe-Signature"),
    "base64 instead": (lambda raw: (raw, {"Stripe-Signature": "t=1,v1=AAAA+/=="}), "malformed Stripe-Signature"),
    "garbage": (lambda raw: (raw, {"Stripe-Signature": "sha256=deadbeef"}), "malformed Stripe-Signature"),
    "v0 only": (
        lambda raw: (raw, {"Stripe-Signature": f"t={int(time.time())},v0={signature(raw)}"}),
        "malformed Stripe-Signature",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_unsigned_or_badly_signed_events_are_401_and_write_nothing(shop, case):
    make, reason = REFUSALS[case]
    raw, headers = make(event("invoice.paid", paid_invoice()))
    status, answer = post(raw, headers)
    assert status == 401, answer
    assert answer["error"] == "unauthorized" and reason in answer["message"]
    assert nothing_written()


def test_a_timestamp_just_within_300_seconds_is_accepted(shop):
    raw = event("invoice.finalized", real_invoice())
    assert post(raw, signed(raw, t=int(time.time()) - 290))[0] == 202


def test_any_matching_v1_is_enough(shop):
    # while an endpoint secret is being rolled, Stripe signs with the old and the new one
    raw = event("invoice.finalized", real_invoice())
    t = int(time.time())
    header = f"t={t},v1={signature(raw, secret='whsec_rolled_away', t=t)},v1={signature(raw, t=t)}"
    status, _ = post(raw, {"Stripe-Signature": header})
    assert status == 202


def test_previous_secret_counts_only_within_its_grace_period(shop, monkeypatch):
    monkeypatch.setenv("TEST_STRIPE_SECRET_NEW", "whsec_new_2026")
    until = datetime.now(UTC) + timedelta(hours=1)
    rotation = {
        "secret": {"env": "TEST_STRIPE_SECRET_NEW"},
        "previous_secret": {"env": "TEST_STRIPE_SECRET"},
        "previous_valid_until": until.isoformat(),
    }
    configure({"stripe": rotation})
    raw = event("invoice.finalized", real_invoice(), event_id="evt_old_secret")
    assert post(raw, signed(raw))[0] == 202  # the old secret, within the hour
    configure({"stripe": rotation | {"previous_valid_until": (until - timedelta(hours=2)).isoformat()}})
    raw = event("invoice.paid", paid_invoice(), event_id="evt_old_secret_late")
    status, answer = post(raw, signed(raw))
    assert status == 401 and "signed with the previous stripe secret" in answer["message"]
    assert stored().status == "open"


def test_a_shop_without_a_stripe_secret_refuses(demo_shop):
    raw = event("invoice.finalized", real_invoice())
    status, answer = post(raw, signed(raw))
    assert status == 401 and "no stripe secret configured" in answer["message"]
    assert nothing_written()


def test_replayed_event_id_is_a_duplicate(shop):
    paid_rule()
    raw = event("invoice.paid", paid_invoice(), event_id="evt_replayed")
    first = post(raw, signed(raw))
    # Stripe's retry re-signs with a new timestamp; the event id stays
    again = event("invoice.paid", paid_invoice(), event_id="evt_replayed", created=1)
    second = post(again, signed(again, t=int(time.time()) + 1))
    shop.drain()
    assert first[0] == 202
    assert second[0] == 200 and second[1]["duplicate"] is True and second[1]["run_id"] == first[1]["run_id"]
    assert len(sent_emails()) == 1


# ------------------------------------------------------------------ subscriptions and other events


def subscription(**changes: Any) -> dict[str, Any]:
    """A Stripe subscription object (API 2025-03-31: the period lives on the items)."""
    return {
        "id": "sub_1RHNtjBCyp3mYB9L",
        "object": "subscription",
        "customer": "cus_S2kT9XbW3qLm0a",
        "status": "active",
        "currency": "eur",
        "created": 1745433906,
        "start_date": 1745433906,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "trial_end": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "metadata": {"shop_customer": "K-1001"},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_S2kTa1",
                    "object": "subscription_item",
                    "current_period_start": 1745433906,
                    "current_period_end": 1748112306,
                    "quantity": 2,
                    "price": {
                        "id": "price_1RHNabc",
                        "object": "price",
                        "currency": "eur",
                        "nickname": "Kaffee-Abo monatlich",
                        "product": "prod_S2kTcoffee",
                        "recurring": {"interval": "month", "interval_count": 1},
                        "unit_amount": 1490,
                    },
                }
            ],
            "has_more": False,
        },
    } | changes


def subscription_rules() -> None:
    save_template(
        "demo",
        "abo",
        "de",
        {
            "subject": "{{ event.type }}: {{ subscription.plan }}",
            "text": "{{ subscription.amount | money }} bis {{ subscription.current_period_end[:10] }}",
        },
    )
    save_rule(
        "demo",
        {
            "id": "abo-started",
            "name": "New coffee subscription",
            "trigger": {"event": "subscription.started"},
            "when": {
                "all": [
                    {"field": "subscription.plan", "op": "eq", "value": "Kaffee-Abo monatlich"},
                    {"field": "subscription.status", "op": "in", "value": ["active", "trialing"]},
                    {"field": "subscription.metadata.shop_customer", "op": "exists"},
                ]
            },
            "actions": [{"type": "email", "template": "abo", "to": "owner"}],
        },
    )
    save_rule(
        "demo",
        {
            "id": "abo-cancelled",
            "name": "Coffee subscription cancelled",
            "trigger": {"event": "subscription.cancelled"},
            "when": {"field": "subscription.cancellation_reason", "op": "eq", "value": "cancellation_requested"},
            "actions": [{"type": "email", "template": "abo", "to": "owner"}],
        },
    )


def test_subscription_created_and_deleted_fire_started_and_cancelled(shop):
    subscription_rules()
    created = event("customer.subscription.created", subscription(), event_id="evt_sub_created")
    status, answer = post(created, signed(created))
    assert status == 202
    assert answer["events"] == ["subscription.started"] and answer["rules_fired"] == ["abo-started"]
    run = shop.run(answer["run_id"])
    assert run["subscription_id"] == "sub_1RHNtjBCyp3mYB9L" and run["platform"] == "stripe"

    ended = subscription(
        status="canceled",
        canceled_at=1746000000,
        ended_at=1746000000,
        cancellation_details={"comment": None, "feedback": "too_expensive", "reason": "cancellation_requested"},
    )
    deleted = event("customer.subscription.deleted", ended, event_id="evt_sub_deleted")
    status, answer = post(deleted, signed(deleted))
    assert status == 202
    assert answer["events"] == ["subscription.cancelled"] and answer["rules_fired"] == ["abo-cancelled"]
    assert post(deleted, signed(deleted))[1]["duplicate"] is True

    shop.drain()
    mails = sorted(sent_emails(), key=lambda m: m["Subject"])
    assert [m["Subject"] for m in mails] == [
        "subscription.cancelled: Kaffee-Abo monatlich",
        "subscription.started: Kaffee-Abo monatlich",
    ]
    assert "29,80" in mails[1].get_body(("plain",)).get_content()  # 2 x 14.90 EUR a month
    assert "2025-05-24" in mails[1].get_body(("plain",)).get_content()  # the item's current_period_end
    assert not list(InvoiceItem.query("demo"))


def test_other_event_types_are_ignored_with_200_and_write_nothing(shop):
    raw = event("customer.created", {"id": "cus_1", "object": "customer"})
    status, answer = post(raw, signed(raw))
    assert (status, answer) == (200, {"ignored": "customer.created"})
    assert nothing_written()
    status, _ = post(raw, {})  # still only when signed
    assert status == 401


# ------------------------------------------------------------------ routes


def test_the_stripe_route_reaches_the_invoice_function_and_leaves_the_others_to_order_import(shop):
    routes = STACK.functions["InvoiceStatusFunction"].api_routes
    assert ("POST", "/v1/shops/{shop}/events/stripe") in routes
    assert ("POST", "/v1/shops/{shop}/events/{platform}") in STACK.functions["OrderImportFunction"].api_routes
    # order-import does not know "stripe" (404 unknown platform): a 202 means invoice-status took it
    raw = event("invoice.finalized", real_invoice())
    assert post(raw, signed(raw))[0] == 202
    # the literal route does not swallow the other platforms
    status, answer = post(b"{}", {}, path="/v1/shops/demo/events/shopify")
    assert status == 401 and "X-Shopify-Hmac-Sha256" in answer["message"]


# ------------------------------------------------------------------ canonical invoices on /events/regelwerk

CANONICAL = {
    "event_id": "re-2026-0042-sent",
    "invoice": {
        "id": "re_42",
        "number": "RE-2026-0042",
        "currency": "EUR",
        "amount": "119.00",
        "status": "open",
        "issued_at": "2026-11-20T10:00:00+01:00",
        "due_at": "2026-12-04T23:59:59+01:00",
    },
}


def test_canonical_invoice_event_on_the_events_route(demo_shop):
    status, answer = demo_shop.post(CANONICAL)  # /v1/shops/demo/events/regelwerk
    assert status == 202 and answer["events"] == ["invoice.sent"]
    invoice = stored("re_42")
    assert invoice.amount == Decimal("119.00") and invoice.status == "open"
    # the same event on the invoices route is the same event
    again = demo_shop.post(CANONICAL, path="/v1/shops/demo/invoices/events")
    assert again[0] == 200 and again[1]["duplicate"] is True and again[1]["run_id"] == answer["run_id"]
    assert not list(OrderItem.query("demo"))


def test_canonical_invoice_on_the_events_route_needs_the_ingest_key(demo_shop):
    status, answer = demo_shop.post(CANONICAL, key="wrong")
    assert status == 401
    assert nothing_written()


def test_incomplete_unknown_invoice_on_the_events_route_is_422_naming_the_fields(demo_shop):
    body = {"invoice": {k: v for k, v in CANONICAL["invoice"].items() if k not in ("due_at", "amount")}}
    status, answer = demo_shop.post(body)
    assert status == 422
    assert answer["problems"] == [
        {"path": "$.invoice.amount", "reason": "required field is missing"},
        {"path": "$.invoice.due_at", "reason": "required field is missing"},
    ]
    assert nothing_written()


def refunded_charge(amount_refunded: int, invoice: str | None = "in_1234") -> dict[str, Any]:
    """Stripe's real charge.refunded sample (pay-rails/pay), its charge tied to the invoice."""
    data = json.loads((REAL / "stripe" / "charge.refunded.data.json").read_text())
    return data["object"] | {"invoice": invoice, "currency": "usd", "amount_refunded": amount_refunded}


def test_a_refunded_charge_of_a_stored_invoice_fires_invoice_refunded_once(shop):
    finalized = event("invoice.finalized", real_invoice(), event_id="evt_fin")
    post(finalized, signed(finalized))
    raw = event("charge.refunded", refunded_charge(500), event_id="evt_refund_1")
    status, answer = post(raw, signed(raw))
    assert status == 202 and answer["events"] == ["invoice.refunded"], answer
    assert stored().amount_refunded == Decimal("5.00")
    run = shop.run(answer["run_id"])
    assert run["events"][0]["type"] == "invoice.refunded"
    # the same refund told again (Stripe also sends charge.refund.updated-like repeats) fires nothing
    again = event("charge.refunded", refunded_charge(500), event_id="evt_refund_2")
    assert post(again, signed(again))[1]["events"] == []


def test_a_refunded_charge_of_no_known_invoice_is_ignored_and_writes_nothing(shop):
    for n, charge in enumerate((refunded_charge(500, invoice=None), refunded_charge(500, invoice="in_unknown"))):
        raw = event("charge.refunded", charge, event_id=f"evt_x{n}")
        status, answer = post(raw, signed(raw))
        assert status == 200 and answer["ignored"].startswith("charge.refunded")
    assert nothing_written()
