"""The admin API as a new user tries it: rules and versions, templates, the run log, dry runs, simulations."""

from __future__ import annotations

import json

import pytest

from regelwerk.store.tables import OrderItem, RunItem
from tests.conftest import EVENTS, order_event, sent_emails


@pytest.fixture
def admin(demo_shop):
    def call(method: str, path: str, body=None, key: str | None = None, query=None):
        headers = {"Authorization": f"Bearer {key or demo_shop.admin_key}", "Content-Type": "application/json"}
        raw = None if body is None else json.dumps(body)
        status, hdrs, answer = demo_shop.stack.invoke_http(method, path, headers, raw, query)
        ctype = hdrs.get("Content-Type", "")
        return status, (json.loads(answer) if answer and "json" in ctype else answer.decode())

    call.shop = demo_shop
    return call


def test_rules_are_versioned_and_old_versions_stay_readable(admin):
    status, rule = admin("GET", "/v1/shops/demo/rules/thank-you")
    assert status == 200 and rule["version"] == 1
    status, disabled = admin("POST", "/v1/shops/demo/rules/thank-you/disable")
    assert disabled["enabled"] is False and disabled["version"] == 2
    status, versions = admin("GET", "/v1/shops/demo/rules/thank-you/versions")
    assert [v["version"] for v in versions["versions"]] == [1, 2]
    status, v1 = admin("GET", "/v1/shops/demo/rules/thank-you/versions/1")
    assert v1["rule"]["enabled"] is True
    # the disabled rule no longer fires
    admin.shop.post(order_event(2))
    admin.shop.drain()
    assert sent_emails() == []


def test_create_replace_delete(admin):
    rule = {
        "id": "vip",
        "name": "VIP",
        "trigger": {"event": "order.imported"},
        "when": {"all": [{"field": "order.total", "op": "gte", "value": "1000"}]},
        "actions": [{"type": "email", "template": "big-order", "to": "owner"}],
    }
    assert admin("POST", "/v1/shops/demo/rules", rule)[0] == 201
    assert admin("POST", "/v1/shops/demo/rules", rule)[0] == 409
    status, replaced = admin("PUT", "/v1/shops/demo/rules/vip", rule | {"name": "VIP orders"})
    assert status == 200 and replaced["version"] == 2
    assert admin("DELETE", "/v1/shops/demo/rules/vip")[0] == 204
    assert admin("GET", "/v1/shops/demo/rules/vip")[0] == 404
    assert [v["version"] for v in admin("GET", "/v1/shops/demo/rules/vip/versions")[1]["versions"]] == [1, 2]


def test_invalid_rule_is_422_naming_the_path_and_nothing_is_saved(admin):
    bad = {
        "id": "bad",
        "name": "Bad",
        "trigger": {"event": "order.imported"},
        "when": {"all": [{"field": "order.totl", "op": "gt", "value": 1}]},
        "actions": [{"type": "email", "template": "thank-you", "colour": "red"}],
    }
    status, body = admin("PUT", "/v1/shops/demo/rules/bad", bad)
    assert status == 422
    assert {"path": "$.when.all[0].field", "reason": "unknown field 'order.totl'"} in body["problems"]
    assert {"path": "$.actions[0].colour", "reason": "unknown field"} in body["problems"]
    assert admin("GET", "/v1/shops/demo/rules/bad")[0] == 404


def test_template_that_does_not_compile_is_422(admin):
    status, body = admin("PUT", "/v1/shops/demo/templates/oops/de", {"subject": "Hi {{ order.number", "text": "x"})
    assert status == 422
    assert body["problems"][0]["path"] == "$.subject"
    assert admin("GET", "/v1/shops/demo/templates/oops/de")[0] == 404


def test_run_log_shows_which_condition_failed_with_its_value_and_filters(admin):
    admin.shop.post(order_event(1))
    admin.shop.post(order_event(2))
    admin.shop.drain()
    status, page = admin("GET", "/v1/shops/demo/runs", query={"order": "1002"})
    [run] = page["runs"]
    outcome = {r["rule"]: r for r in run["events"][0]["rules"]}["invoice-paid-orders"]
    assert outcome["fired"] is False
    failed = [leaf for leaf in outcome["conditions"]["all"] if not leaf["result"]]
    assert failed[0] == {
        "field": "order.shipping_address.country",
        "op": "eq",
        "value": "DE",
        "actual": "GB",
        "result": False,
    }
    _status, fired = admin("GET", "/v1/shops/demo/runs", query={"rule": "invoice-paid-orders", "fired": "true"})
    assert {r["order_id"] for r in fired["runs"]} == {"9007199254740993"}
    _status, evaluated = admin("GET", "/v1/shops/demo/runs", query={"rule": "invoice-paid-orders"})
    assert {r["order_id"] for r in evaluated["runs"]} == {"9007199254740993", "1002"}
    _status, one = admin("GET", f"/v1/shops/demo/runs/{run['run_id']}")
    assert one["status"] == "completed"


def test_paging_tokens_are_signed(admin):
    for n in (1, 2, 5):
        admin.shop.post(order_event(n))
    status, first = admin("GET", "/v1/shops/demo/runs", query={"limit": "2"})
    assert len(first["runs"]) == 2 and first["next"]
    status, second = admin("GET", "/v1/shops/demo/runs", query={"limit": "2", "next": first["next"]})
    assert status == 200 and len(second["runs"]) == 1
    body, mac = first["next"].rsplit(".", 1)
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    assert admin("GET", "/v1/shops/demo/runs", query={"next": tampered})[0] == 400


def test_dry_run_renders_without_sending_or_writing(admin):
    admin.shop.post(order_event(1))
    admin.shop.drain()
    sent_before, runs_before = len(sent_emails()), len(list(RunItem.query("demo")))
    status, answer = admin(
        "POST", "/v1/shops/demo/rules:test", {"rule_id": "thank-you", "order_id": "9007199254740993"}
    )
    assert status == 200 and answer["fired"] is True
    [message] = answer["messages"]
    assert message["subject"] == "Danke für Ihre Bestellung 1001"
    assert "149,90" in message["text"]
    assert len(sent_emails()) == sent_before and len(list(RunItem.query("demo"))) == runs_before


def test_dry_run_of_an_unsaved_rule_explains_the_miss(admin):
    order = json.loads((EVENTS / "02-order-john-unpaid.json").read_text())["order"]
    rule = {
        "id": "draft",
        "name": "Draft",
        "trigger": {"event": "order.imported"},
        "when": {"all": [{"field": "order.total", "op": "gt", "value": 50}]},
        "actions": [{"type": "email", "template": "thank-you"}],
    }
    _status, answer = admin("POST", "/v1/shops/demo/rules:test", {"rule": rule, "order": order})
    assert answer["fired"] is False
    assert answer["reason"] == "conditions not met: order.total gt 50 was false (actual value: 38.40)"
    assert not list(OrderItem.query("demo"))


def test_simulation_counts_what_would_have_fired(admin):
    for n in (1, 2, 5):
        admin.shop.post(order_event(n))
    admin.shop.drain()
    sent = len(sent_emails())
    status, answer = admin(
        "POST",
        "/v1/shops/demo/rules:simulate",
        {"rule_id": "invoice-paid-orders", "since": "2026-11-01T00:00:00+01:00", "until": "2026-12-01T00:00:00+01:00"},
    )
    assert status == 200
    assert answer["orders_considered"] == 3 and answer["would_fire"] == 1
    assert answer["actions"] == {"pdf": 1, "email": 1}
    assert answer["samples"][0]["order_number"] == "1001"
    assert len(sent_emails()) == sent


def test_other_shops_and_ingest_keys_are_refused(admin):
    from regelwerk.model.shop import Shop
    from regelwerk.store.shops import create_key, save_shop

    save_shop(Shop(id="other", name="Other"))
    other_admin = create_key("other", "admin")
    assert admin("GET", "/v1/shops/demo/rules", key=other_admin)[0] == 401
    assert admin("GET", "/v1/shops/demo/rules", key=admin.shop.key)[0] == 403
    assert admin("GET", "/v1/shops/other/runs/" + "evt_x")[0] == 401


def test_openapi_document_validates_and_lists_every_route(admin):
    from openapi_spec_validator import validate

    status, spec = admin("GET", "/v1/openapi.json")
    assert status == 200
    validate(spec)
    paths = set(spec["paths"])
    for path in (
        "/v1/shops/{shop}",
        "/v1/shops/{shop}/rules",
        "/v1/shops/{shop}/rules/{rule_id}",
        "/v1/shops/{shop}/rules/{rule_id}/versions",
        "/v1/shops/{shop}/rules:test",
        "/v1/shops/{shop}/rules:simulate",
        "/v1/shops/{shop}/templates/{name}/{language}",
        "/v1/shops/{shop}/runs",
        "/v1/shops/{shop}/runs/{run_id}",
        "/v1/shops/{shop}/rules/{rule_id}/run",
        "/v1/shops/{shop}/tasks",
        "/v1/shops/{shop}/tasks/{task_id}",
        "/v1/shops/{shop}/documents/{kind}/preview",
        "/v1/shops/{shop}/orders",
        "/v1/shops/{shop}/orders/{order_id}",
        "/v1/shops/{shop}/invoices",
        "/v1/shops/{shop}/invoices/{invoice_id}",
    ):
        assert path in paths
