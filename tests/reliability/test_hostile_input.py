"""Generated malformed and hostile payloads against every public route: always 4xx with a reason, never 5xx,
and a refused request writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regelwerk.store.tables import CustomerItem, OrderItem, RuleItem, RunItem
from tests.conftest import order_event
from tests.integration.test_dunning import invoice

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
hostile_text = st.sampled_from(
    [
        "{{ ''.__class__.__mro__ }}",
        "<script>alert(1)</script>",
        "'; DROP TABLE orders; --",
        "\x00\x01\x02",
        "A" * 5000,
        "𝓤𝓷𝓲𝓬𝓸𝓭𝓮 ü ß 中文 🎉",
        "../../etc/passwd",
        "${jndi:ldap://x}",
        "1e999",
        "-0",
        "NaN",
    ]
)


def _mutated_order(draw: Any) -> bytes:
    body = order_event(1)
    order = body["order"]
    key = draw(st.sampled_from([*sorted(order), "line_items.0", "customer.email", "shipping_address.country"]))
    value = draw(json_values | hostile_text)
    target, _, leaf = key.rpartition(".")
    node: Any = order
    for part in target.split(".") if target else []:
        node = node[int(part)] if part.isdigit() else node[part]
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value
    body["event_id"] = draw(st.text(min_size=1, max_size=20))
    return json.dumps(body).encode()


@st.composite
def hostile_bodies(draw: Any) -> bytes:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.binary(max_size=300))
    if kind == 1:
        return json.dumps(draw(json_values)).encode()
    if kind == 2:
        depth = draw(st.integers(50, 200_000))
        return b"[" * depth + b"]" * depth
    if kind == 3:
        return json.dumps({"order": draw(json_values)}).encode()
    return _mutated_order(draw)


def _counts(shop: str = "demo") -> tuple[int, int, int]:
    return (
        sum(1 for _ in OrderItem.query(shop)),
        sum(1 for _ in RunItem.query(shop)),
        sum(1 for _ in CustomerItem.query(shop)),
    )


def _assert_refusal_or_success(status: int, body: bytes) -> None:
    assert status < 500, body[:300]
    if status >= 400:
        answer = json.loads(body)
        assert answer["error"] and answer["message"]


@pytest.fixture(scope="module")
def shop(stack):
    from regelwerk.store.shops import create_key
    from regelwerk_cli import config_dir
    from tests.conftest import DEMO_SHOP

    stack.reset()
    config_dir.apply(config_dir.read(DEMO_SHOP))
    return {"ingest": create_key("demo", "ingest"), "admin": create_key("demo", "admin")}


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(raw=hostile_bodies())
def test_order_events_route(stack, shop, raw):
    before = _counts()
    status, _, body = stack.invoke_http(
        "POST", "/v1/shops/demo/events/regelwerk", {"Authorization": f"Bearer {shop['ingest']}"}, raw
    )
    _assert_refusal_or_success(status, body)
    if status >= 400:
        assert _counts() == before


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(raw=hostile_bodies())
def test_invoice_events_route(stack, shop, raw):
    status, _, body = stack.invoke_http(
        "POST", "/v1/shops/demo/invoices/events", {"Authorization": f"Bearer {shop['ingest']}"}, raw
    )
    _assert_refusal_or_success(status, body)


rule_like = st.fixed_dictionaries(
    {"id": st.text(max_size=10) | st.just("r1"), "name": st.text(max_size=10)},
    optional={
        "trigger": json_values | st.just({"event": "order.imported"}),
        "when": json_values,
        "actions": json_values | st.just([{"type": "email", "template": "thank-you"}]),
        "limit": json_values,
        "mode": json_values,
        "enabled": json_values,
    },
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(rule=rule_like | json_values)
def test_admin_rule_routes(stack, shop, rule):
    headers = {"Authorization": f"Bearer {shop['admin']}"}
    before = sum(1 for _ in RuleItem.query("demo"))
    for method, path in (("PUT", "/v1/shops/demo/rules/r1"), ("POST", "/v1/shops/demo/rules:test")):
        status, _, body = stack.invoke_http(method, path, headers, json.dumps(rule))
        _assert_refusal_or_success(status, body)
        if method == "PUT" and status >= 400:
            assert sum(1 for _ in RuleItem.query("demo")) == before


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    template=st.dictionaries(st.sampled_from(["subject", "html", "text", "x"]), hostile_text | st.text()),
    query=st.dictionaries(st.sampled_from(["next", "limit", "since", "status", "rule"]), st.text(max_size=30)),
)
def test_admin_template_and_run_routes(stack, shop, template, query):
    headers = {"Authorization": f"Bearer {shop['admin']}"}
    status, _, body = stack.invoke_http("PUT", "/v1/shops/demo/templates/fuzz/de", headers, json.dumps(template))
    _assert_refusal_or_success(status, body)
    status, _, body = stack.invoke_http("GET", "/v1/shops/demo/runs", headers, None, query)
    _assert_refusal_or_success(status, body)


@pytest.fixture(scope="module")
def listed(stack, shop) -> list[str]:
    """Orders and an invoice to list, and real paging tokens of each list to carry elsewhere."""
    headers = {"Authorization": f"Bearer {shop['ingest']}", "Content-Type": "application/json"}
    for n in (1, 2, 5):
        stack.invoke_http("POST", "/v1/shops/demo/events/regelwerk", headers, json.dumps(order_event(n)))
    body = invoice(1, order_id="9007199254740993")
    stack.invoke_http("POST", "/v1/shops/demo/invoices/events", headers, json.dumps(body))
    admin = {"Authorization": f"Bearer {shop['admin']}"}
    tokens = []
    for path in ("orders", "runs", "invoices"):
        _, _, body = stack.invoke_http("GET", f"/v1/shops/demo/{path}", admin, None, {"limit": "1"})
        tokens.append(json.loads(body)["next"])
    return [t for t in tokens if t]


read_values = (
    st.text(max_size=40)
    | hostile_text
    | st.sampled_from(["9999-12-31", "0001-01-01", "2026-11-23T09:15:00", "2026-11-23T09:15:00+01:00", "²", "0"])
    | st.sampled_from(["number:1001", "number:", "number:@shopify", "number:1001@x", "number:" + "9" * 70])
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    data=st.data(),
    route=st.sampled_from(["orders", "invoices", "runs"]),
    query=st.dictionaries(
        st.sampled_from(
            ["number", "customer", "email", "status", "channel", "since", "until", "limit", "next", "order", "fired"]
        ),
        read_values,
    ),
    ref=read_values.filter(lambda v: "/" not in v and "?" not in v),
)
def test_read_routes(stack, shop, listed, data, route, query, ref):
    headers = {"Authorization": f"Bearer {shop['admin']}"}
    if listed and data.draw(st.booleans()):
        query["next"] = data.draw(st.sampled_from(listed))  # a real token, carried to any list and filter
    status, _, body = stack.invoke_http("GET", f"/v1/shops/demo/{route}", headers, None, query)
    _assert_refusal_or_success(status, body)
    status, _, body = stack.invoke_http("GET", f"/v1/shops/demo/{route}/{ref}", headers, None)
    _assert_refusal_or_success(status, body)
