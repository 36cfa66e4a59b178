"""Tenants: shop A's keys and signatures against every route of shop B, and shop B's ids with A's keys.

Every admin route of the OpenAPI document is tried with shop B in the path and shop A's admin
key, and with shop A in the path but B's ids; every ingest route with A's key or A's webhook
secret. Each answer is 401, 403 or 404 (or, for A's own path, no data of B's), and B's records
are the same afterwards.
"""

from __future__ import annotations

import json
import re

import pytest

from regelwerk.store.rules import list_rules
from regelwerk.store.runs import list_runs
from regelwerk.store.shops import create_key
from regelwerk_cli import config_dir
from regelwerk_cli.platform_events import signed
from tests.conftest import DEMO_SHOP, ROOT, order_event


@pytest.fixture
def two_shops(demo_shop, monkeypatch):
    """Shop A is the demo shop; shop B ("bshop") is the same configuration under another id and secrets."""
    monkeypatch.setenv("B_SHOPIFY_SECRET", "b-shopify-secret-0123456789abcdef")
    config = config_dir.read(DEMO_SHOP)
    config.shop = config.shop | {
        "id": "bshop",
        "name": "Shop B",
        "platforms": {"shopify": {"secret": {"env": "B_SHOPIFY_SECRET"}}},
    }
    config_dir.apply(config)
    b_ingest = create_key("bshop", "ingest")
    status, _, answer = demo_shop.stack.invoke_http(
        "POST",
        "/v1/shops/bshop/events/regelwerk",
        {"Authorization": f"Bearer {b_ingest}", "Content-Type": "application/json"},
        json.dumps(order_event(1)),
    )
    assert status == 202
    demo_shop.drain()
    return demo_shop, json.loads(answer)["run_id"]


def snapshot() -> tuple:
    runs = sorted((r["run_id"], json.dumps(r["deliveries"], sort_keys=True)) for r in list_runs("bshop"))
    rules = sorted((r.id, r.version, r.enabled) for r in list_rules("bshop"))
    return runs, rules


def admin_routes(shop) -> list[tuple[str, str]]:
    _, _, raw = shop.stack.invoke_http("GET", "/v1/openapi.json")
    spec = json.loads(raw)
    return [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops if path.startswith("/v1/shops/")]


def fill(path: str, shop_id: str, run_id: str) -> str:
    values = {"shop": shop_id, "rule_id": "thank-you", "run_id": run_id, "name": "thank-you", "language": "de"}
    values |= {"version": "1", "customer_id": "cus_x", "task_id": "t", "kind": "invoice"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


def test_shop_a_admin_key_opens_nothing_of_shop_b_on_any_route(two_shops):
    shop, b_run = two_shops
    before = snapshot()
    tried = 0
    for method, path in admin_routes(shop):
        url = fill(path, "bshop", b_run)
        body = json.dumps({"order_id": "9007199254740993", "order_ids": ["9007199254740993"]})
        status, _, answer = shop.stack.invoke_http(
            method, url, {"Authorization": f"Bearer {shop.admin_key}", "Content-Type": "application/json"}, body
        )
        assert status in (401, 403, 404), (method, url, status, answer[:300])
        assert b"Shop B" not in answer and b_run.encode() not in answer
        tried += 1
    assert tried >= 25
    assert snapshot() == before


def test_shop_b_ids_through_shop_a_paths_find_nothing(two_shops):
    shop, b_run = two_shops
    assert shop.admin("GET", f"/runs/{b_run}")[0] == 404
    status, listed = shop.admin("GET", "/runs")
    assert status == 200 and b_run not in json.dumps(listed)


def test_shop_a_ingest_key_and_webhook_secret_are_refused_by_shop_b(two_shops):
    shop, _ = two_shops
    before = snapshot()
    for path in ("/v1/shops/bshop/events/regelwerk", "/v1/shops/bshop/invoices/events"):
        status, _, _ = shop.stack.invoke_http(
            "POST",
            path,
            {"Authorization": f"Bearer {shop.key}", "Content-Type": "application/json"},
            json.dumps(order_event(2)),
        )
        assert status == 401
    # a Shopify webhook signed with shop A's secret, sent to shop B
    platform, headers, body = signed(ROOT / "events" / "platforms" / "shopify-orders-create.json", shop.key)
    status, _, _ = shop.stack.invoke_http("POST", f"/v1/shops/bshop/events/{platform}", headers, body)
    assert status == 401
    assert snapshot() == before


ODD_SHOP_SEGMENTS = [":demo", "demo%2F..", "DEMO", "dëmo", "d" * 1000, "demo:", ".demo", "%00"]


@pytest.mark.parametrize("segment", ODD_SHOP_SEGMENTS)
@pytest.mark.parametrize("with_key", [False, True])
def test_a_shop_segment_outside_the_id_grammar_never_reaches_a_route(demo_shop, segment, with_key):
    """An odd shop segment answers 404 (or 401 without a key) before routing: never 5xx, never a body schema."""
    headers = {"Authorization": f"Bearer {demo_shop.admin_key}"} if with_key else {}
    for method, path, body in [
        ("GET", f"/v1/shops/{segment}/rules", None),
        ("POST", f"/v1/shops/{segment}/rules", json.dumps({"not": "a rule"})),
        ("GET", f"/v1/shops/{segment}/customers", None),
        ("PUT", f"/v1/shops/{segment}", json.dumps({})),
    ]:
        status, _, answer = demo_shop.stack.invoke_http(method, path, headers, body)
        assert status in (401, 403, 404), (method, path, status, answer[:200])
        text = answer.decode()
        assert "problems" not in text and "Traceback" not in text
