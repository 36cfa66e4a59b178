"""The read routes as the console and an integrator use them: orders and invoices listed, filtered and
paged, one record with its history, lookup by the shop's own number, and the run log by rule."""

from __future__ import annotations

import json

import pytest

from tests.conftest import order_event, sent_emails
from tests.integration.test_dunning import invoice, post_invoice


@pytest.fixture
def admin(demo_shop):
    def call(method: str, path: str, body=None, key: str | None = None, query=None, shop: str = "demo"):
        headers = {"Authorization": f"Bearer {key or demo_shop.admin_key}", "Content-Type": "application/json"}
        raw = None if body is None else json.dumps(body)
        status, hdrs, answer = demo_shop.stack.invoke_http(method, f"/v1/shops/{shop}{path}", headers, raw, query)
        assert status < 500, answer
        return status, (json.loads(answer) if answer and "json" in hdrs.get("Content-Type", "") else answer)

    call.shop = demo_shop
    return call


def post_orders(shop, *orders: dict) -> None:
    for n, order in enumerate(orders):
        status, answer = shop.post({"event_id": f"read-{order['id']}-{n}", "order": order})
        assert status in (200, 202), answer
    shop.drain()


def an_order(n: int, **changes) -> dict:
    """Order ``n`` of a day: placed at 08:00 + n minutes, Vienna time, so UTC and local times differ."""
    base = order_event(1)["order"]
    return (
        base
        | {
            "id": f"70{n:02d}",
            "number": f"20{n:02d}",
            "created_at": f"2026-11-20T08:{n:02d}:00+01:00",
            "paid_at": None,
            "status": "new",
        }
        | changes
    )


def ids(page: dict, key: str = "orders") -> list[str]:
    return [row["id"] for row in page[key]]


def test_orders_newest_first_across_pages_with_signed_tokens(admin):
    # Given five orders, posted out of order
    post_orders(admin.shop, *(an_order(n) for n in (3, 1, 5, 2, 4)))
    # When the list is read two at a time
    seen, token, pages = [], None, 0
    while True:
        status, page = admin("GET", "/orders", query={"limit": "2"} | ({"next": token} if token else {}))
        assert status == 200
        seen += ids(page)
        pages += 1
        token = page["next"]
        if not token:
            break
    # Then every order comes once, newest first, in three pages
    assert seen == ["7005", "7004", "7003", "7002", "7001"] and pages == 3
    first = admin("GET", "/orders", query={"limit": "1"})[1]["orders"][0]
    assert first == {
        "id": "7005",
        "number": "2005",
        "channel": "shopify",
        "status": "new",
        "created_at": "2026-11-20T08:05:00+01:00",
        "customer_id": first["customer_id"],
        "email": "anna.mueller@example.de",
        "total": {"amount": "149.90", "currency": "EUR"},
    }


def test_orders_filtered_by_each_field(admin):
    post_orders(
        admin.shop,
        an_order(1),
        an_order(2, status="on_hold"),
        an_order(3, channel="woocommerce", customer=order_event(2)["order"]["customer"]),
        an_order(4, created_at="2026-11-22T23:30:00-05:00"),  # 23 Nov in UTC
    )

    def listed(**query) -> list[str]:
        status, page = admin("GET", "/orders", query=query)
        assert status == 200, page
        return ids(page)

    john = order_event(2)["order"]["customer"]["email"]
    assert listed(status="on_hold") == ["7002"]
    assert listed(channel="woocommerce") == ["7003"]
    assert listed(email=john.upper()) == ["7003"]
    assert listed(number="2002") == ["7002"]
    assert listed(since="2026-11-23") == ["7004"]
    assert listed(until="2026-11-22") == ["7003", "7002", "7001"]
    assert listed(since="2026-11-20T07:01:30Z", until="2026-11-20T08:03:00+01:00") == ["7002"]
    customer = admin("GET", "/orders/7003")[1]["customer_id"]
    assert listed(customer=customer) == ["7003"]
    assert listed(status="on_hold", channel="woocommerce") == []


def test_one_order_with_its_history_runs_messages_and_documents(admin):
    # Given order 1001 imported paid, then shipped
    post_orders(admin.shop, order_event(1)["order"])
    shipped = order_event(3)
    status, _ = admin.shop.post(shipped)
    admin.shop.drain()
    # When it is read by its number
    status, detail = admin("GET", "/orders/number:1001")
    assert status == 200
    # Then the order as stored, and what happened to it, oldest first
    assert detail["order"]["number"] == "1001" and detail["order"]["total"] == "149.90"
    events = [h["event"] for h in detail["status_history"]]
    assert events[0] == "order.imported" and "order.shipped" in events
    assert [r["run_id"] for r in detail["runs"]] == list(dict.fromkeys(h["run_id"] for h in detail["status_history"]))
    assert "thank-you" in detail["runs"][0]["rules_fired"]
    mails = [m for m in detail["messages"] if m["type"] == "email"]
    assert {m["rule"] for m in mails} >= {"thank-you", "invoice-paid-orders"}
    assert {m["state"] for m in mails if m["rule"] in ("thank-you", "invoice-paid-orders")} == {"sent"}
    assert len(sent_emails()) >= len([m for m in mails if m["state"] == "sent"])
    [invoice_pdf] = [d for d in detail["documents"] if d.get("rule") == "invoice-paid-orders"]
    assert invoice_pdf["output"]["document"] == "invoice" and invoice_pdf["output"]["key"].endswith(".pdf")
    # the same order by its id
    assert admin("GET", f"/orders/{detail['order']['id']}")[1]["order"] == detail["order"]


def test_a_number_two_channels_share_is_409_naming_both_until_the_channel_says_which(admin):
    # Given order number 1001 from Shopify and from WooCommerce
    post_orders(admin.shop, order_event(1)["order"], an_order(9, number="1001", channel="woocommerce"))
    # Then number:1001 is ambiguous wherever an order id is taken
    status, body = admin("GET", "/orders/number:1001")
    assert status == 409
    assert sorted(body["matches"], key=lambda m: m["id"]) == [
        {"id": "7009", "channel": "woocommerce"},
        {"id": "9007199254740993", "channel": "shopify"},
    ]
    assert "number:1001@<channel>" in body["message"]
    test = {"rule_id": "thank-you", "order_id": "number:1001"}
    assert admin("POST", "/rules:test", test)[0] == 409
    assert admin("GET", "/runs", query={"order": "number:1001"})[0] == 409
    # and the channel picks one
    assert admin("GET", "/orders/number:1001@woocommerce")[1]["order"]["id"] == "7009"
    status, answer = admin("POST", "/rules:test", test | {"order_id": "number:1001@shopify"})
    assert status == 200 and answer["order_id"] == "9007199254740993" and answer["fired"] is True
    assert sorted(ids(admin("GET", "/orders", query={"number": "1001"})[1])) == ["7009", "9007199254740993"]
    assert ids(admin("GET", "/orders", query={"number": "1001", "channel": "shopify"})[1]) == ["9007199254740993"]
    # a number nobody has is 404
    status, body = admin("GET", "/orders/number:4711")
    assert status == 404 and "4711" in body["message"]


def test_number_lookup_in_previews(admin):
    post_orders(admin.shop, order_event(1)["order"])
    status, html = admin("POST", "/templates/thank-you/preview", {"order_id": "number:1001"})
    assert status == 200 and "1001" in html.decode()
    status, pdf = admin("POST", "/documents/invoice/preview", {"order_id": "number:1001"})
    assert status == 200 and pdf[:4] == b"%PDF"
    assert admin("POST", "/documents/invoice/preview", {"order_id": "number:999"})[0] == 404


def test_a_manual_run_takes_order_numbers(admin):
    post_orders(admin.shop, order_event(1)["order"], order_event(2)["order"])
    status, answer = admin("POST", "/rules/thank-you/run", {"order_ids": ["number:1002", "9007199254740993"]})
    assert status == 202 and answer["queued"] == 2
    admin.shop.drain()
    children = admin("GET", "/runs", query={"order": "number:1002", "event": "manual"})[1]["runs"]
    assert [r["parent_run"] for r in children] == [answer["run_id"]]
    assert admin("POST", "/rules/thank-you/run", {"order_ids": ["number:4711"]})[0] == 404


def test_why_a_rule_did_not_fire_for_an_order_is_one_query(admin):
    # Given 1001 (Germany: invoice-paid-orders fires) and 1002 (Britain: it does not)
    post_orders(admin.shop, order_event(1)["order"], order_event(2)["order"])

    def runs(**query) -> list[dict]:
        status, page = admin("GET", "/runs", query=query)
        assert status == 200, page
        return page["runs"]

    # When the run log is asked about the rule for order 1002, where it did not fire
    [run] = runs(order="number:1002", rule="invoice-paid-orders", fired="false")
    # Then the run explains it
    outcome = next(r for e in run["events"] for r in e["rules"] if r["rule"] == "invoice-paid-orders")
    assert outcome["fired"] is False and "shipping_address.country" in outcome["reason"]
    assert runs(order="number:1002", rule="invoice-paid-orders", fired="true") == []
    assert runs(order="number:1001", rule="invoice-paid-orders", fired="false") == []
    assert {r["order_number"] for r in runs(rule="invoice-paid-orders")} == {"1001", "1002"}
    assert {r["order_number"] for r in runs(rule="invoice-paid-orders", fired="true")} == {"1001"}
    assert runs(rule="no-such-rule") == []
    assert len(runs(rule="invoice-paid-orders", since="2000-01-01T01:00:00+01:00")) == 2
    assert runs(rule="invoice-paid-orders", until="2000-01-01") == []


def post_invoices(shop, *bodies: dict) -> None:
    for body in bodies:
        post_invoice(shop, body)
    shop.drain()


def issued(n: int, **changes) -> dict:
    """Invoice ``n`` of the dunning tests, issued on the n-th of November."""
    return invoice(n, issued_at=f"2026-11-0{n}T10:00:00+01:00", due_at="2026-11-30T23:59:59+01:00", **changes)


def test_invoices_listed_filtered_paged_and_one_with_its_runs(admin):
    post_orders(admin.shop, order_event(1)["order"])
    post_invoices(
        admin.shop,
        issued(1, order_id="9007199254740993", customer_id="c-anna"),
        issued(2, status="paid", paid_at="2026-11-03T10:00:00+01:00"),
        issued(3),
        issued(1, order_id="9007199254740993", customer_id="c-anna", status="paid", paid_at="2026-11-05T10:00:00Z"),
    )

    def listed(**query) -> list[str]:
        status, page = admin("GET", "/invoices", query=query)
        assert status == 200, page
        return ids(page, "invoices")

    assert listed() == ["in_3", "in_2", "in_1"]
    assert listed(status="paid") == ["in_2", "in_1"]
    assert listed(order="number:1001") == ["in_1"] == listed(order="9007199254740993")
    assert listed(customer="c-anna") == ["in_1"]
    assert listed(number="RE-2026-0002") == ["in_2"]
    assert listed(since="2026-11-02", until="2026-11-02") == ["in_2"]
    first = admin("GET", "/invoices", query={"limit": "2"})[1]
    second = admin("GET", "/invoices", query={"limit": "2", "next": first["next"]})[1]
    assert ids(first, "invoices") + ids(second, "invoices") == ["in_3", "in_2", "in_1"] and second["next"] is None
    # one invoice by its number, with the runs of its order that were about it
    status, detail = admin("GET", "/invoices/number:RE-2026-0001")
    assert status == 200
    assert detail["invoice"]["status"] == "paid" and detail["invoice"]["amount"] == "149.90"
    assert [h["event"] for h in detail["status_history"]] == ["invoice.sent", "invoice.paid"]
    # and the order lists it
    assert admin("GET", "/orders/number:1001")[1]["invoices"] == [{"id": "in_1", "number": "RE-2026-0001"}]
    # an invoice without an order has its runs too
    lone = admin("GET", "/invoices/in_2")[1]
    assert "invoice.paid" in [h["event"] for h in lone["status_history"]] and len(lone["runs"]) == 1
    assert admin("GET", "/invoices/number:RE-404")[0] == 404


def test_bad_input_is_refused_naming_the_field(admin):
    post_orders(admin.shop, an_order(1), an_order(2), an_order(3))
    token = admin("GET", "/orders", query={"limit": "1"})[1]["next"]
    runs_token = admin("GET", "/runs", query={"limit": "1"})[1]["next"]
    assert token and runs_token
    cases = [
        ("/orders", {"since": "yesterday"}, 422, "$.since"),
        ("/orders", {"until": "2026-11-20T08:00:00"}, 422, "$.until"),  # a time without its zone
        ("/orders", {"since": "2026-11-21", "until": "2026-11-20"}, 422, "$.until"),
        ("/orders", {"status": "Paid!"}, 422, "$.status"),
        ("/orders", {"channel": "Shop ify"}, 422, "$.channel"),
        ("/orders", {"limit": "0"}, 422, "$.limit"),
        ("/orders", {"limit": "many"}, 422, "$.limit"),
        ("/orders", {"next": "garbage"}, 400, "$.next"),
        ("/orders", {"next": token[:-3] + "abc"}, 400, "$.next"),
        ("/orders", {"next": runs_token}, 400, "$.next"),  # another list's token
        ("/orders", {"next": token, "customer": "c1"}, 400, "$.next"),  # another index's
        ("/invoices", {"next": token}, 400, "$.next"),
        ("/invoices", {"status": "unknown"}, 422, "$.status"),
        ("/invoices", {"until": "1.1.2026"}, 422, "$.until"),
        ("/runs", {"next": token}, 400, "$.next"),
        ("/runs", {"fired": "maybe"}, 422, "$.fired"),
        ("/runs", {"since": "yesterday"}, 422, "$.since"),
        ("/runs", {"limit": "²"}, 422, "$.limit"),
        ("/orders/number:", None, 422, "$.id"),
    ]
    for path, query, code, field in cases:
        status, body = admin("GET", path, query=query)
        assert (status, [p["path"] for p in body.get("problems", [])]) == (code, [field]), (path, query, body)
    assert admin("GET", "/orders/no-such-order")[0] == 404
    assert admin("GET", "/invoices/no-such-invoice")[0] == 404


def test_another_shop_sees_nothing_and_its_tokens_do_not_cross(admin):
    from regelwerk.model.shop import Shop
    from regelwerk.store.shops import create_key, save_shop

    # Given shop "other" with orders of its own, one with the demo shop's order number
    save_shop(Shop(id="other", name="Other"))
    other_admin, other_ingest = create_key("other", "admin"), create_key("other", "ingest")
    for n in (1, 2, 3):
        body = {"event_id": f"other-{n}", "order": an_order(n, id=f"80{n}", number="1001" if n == 1 else f"30{n}")}
        status, answer = admin.shop.post(body, key=other_ingest, path="/v1/shops/other/events/regelwerk")
        assert status == 202, answer
    post_orders(admin.shop, order_event(1)["order"])
    # Then each shop lists its own orders only, by number too
    assert ids(admin("GET", "/orders")[1]) == ["9007199254740993"]
    assert admin("GET", "/orders/number:1001")[1]["order"]["id"] == "9007199254740993"
    assert admin("GET", "/orders/801")[0] == 404
    other = admin("GET", "/orders", key=other_admin, shop="other", query={"limit": "2"})[1]
    assert ids(other) == ["803", "802"]
    # the other shop's key opens nothing of the demo shop, and its token is refused there
    assert admin("GET", "/orders", key=other_admin)[0] == 401
    assert admin("GET", "/orders/number:1001", key=other_admin)[0] == 401
    status, body = admin("GET", "/orders", query={"next": other["next"]})
    assert status == 400 and body["problems"][0]["path"] == "$.next"


def test_openapi_describes_the_filters(admin):
    status, _, body = admin.shop.stack.invoke_http("GET", "/v1/openapi.json", {}, None)
    paths = json.loads(body)["paths"]

    def query(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}

    common = {"since", "until", "limit", "next"}
    assert query("/v1/shops/{shop}/orders") == common | {"number", "customer", "email", "status", "channel"}
    assert query("/v1/shops/{shop}/invoices") == common | {"number", "customer", "status", "order"}
    assert query("/v1/shops/{shop}/runs") >= common | {"order", "rule", "fired", "event", "customer", "status"}
