"""The customer API as a shop owner uses it: list and filter, page, read with orders, update, erase, CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest

from regelwerk.store.tables import CustomerItem, OrderItem
from tests.conftest import order_event


@pytest.fixture
def admin(demo_shop):
    def call(method: str, path: str, body=None, key: str | None = None, query=None, content_type="application/json"):
        headers = {"Authorization": f"Bearer {key or demo_shop.admin_key}", "Content-Type": content_type}
        raw = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        status, hdrs, answer = demo_shop.stack.invoke_http(method, path, headers, raw, query)
        ctype = hdrs.get("Content-Type", "")
        return status, (json.loads(answer) if answer and "json" in ctype else answer.decode())

    call.shop = demo_shop
    return call


@pytest.fixture
def customers(admin):
    """Anna (two orders, DE) and John (one order, GB) imported through the ingest API."""
    for n in (1, 2, 5):
        status, _ = admin.shop.post(order_event(n))
        assert status == 202
    admin.shop.drain()
    _, page = admin("GET", "/v1/shops/demo/customers")
    by_name = {c["first_name"]: c for c in page["customers"]}
    return by_name["Anna"], by_name["John"]


def test_list_filters_by_email_tag_and_country(admin, customers):
    anna, john = customers
    status, page = admin("GET", "/v1/shops/demo/customers", query={"email": "  ANNA.Mueller@example.de "})
    assert status == 200 and [c["id"] for c in page["customers"]] == [anna["id"]]
    assert page["customers"][0]["order_count"] == 2
    _, page = admin("GET", "/v1/shops/demo/customers", query={"country": "gb"})
    assert [c["id"] for c in page["customers"]] == [john["id"]]
    admin("PATCH", f"/v1/shops/demo/customers/{john['id']}", {"tags": ["vip"]})
    _, page = admin("GET", "/v1/shops/demo/customers", query={"tag": "vip"})
    assert [c["id"] for c in page["customers"]] == [john["id"]]
    status, body = admin("GET", "/v1/shops/demo/customers", query={"country": "Germany"})
    assert status == 422 and body["problems"][0]["path"] == "$.country"


def test_paging_with_signed_tokens(admin, customers):
    status, first = admin("GET", "/v1/shops/demo/customers", query={"limit": "1"})
    assert status == 200 and len(first["customers"]) == 1 and first["next"]
    _, second = admin("GET", "/v1/shops/demo/customers", query={"limit": "1", "next": first["next"]})
    seen = {first["customers"][0]["id"]} | {c["id"] for c in second["customers"]}
    assert seen == {c["id"] for c in customers}
    tampered = first["next"][:-2] + ("00" if not first["next"].endswith("00") else "11")
    status, body = admin("GET", "/v1/shops/demo/customers", query={"next": tampered})
    assert status == 400 and body["message"] == "invalid paging token"


def test_get_shows_the_customers_orders_newest_first(admin, customers):
    anna, _ = customers
    status, body = admin("GET", f"/v1/shops/demo/customers/{anna['id']}")
    assert status == 200
    assert [o["number"] for o in body["orders"]] == ["1003", "1001"]
    assert body["orders"][1]["total"] == {"amount": "149.90", "currency": "EUR"}
    assert admin("GET", "/v1/shops/demo/customers/cus_nobody")[0] == 404


def test_patch_validates_and_names_the_paths(admin, customers):
    anna, _ = customers
    status, body = admin(
        "PATCH", f"/v1/shops/demo/customers/{anna['id']}", {"language": "english", "tags": ["x" * 65], "email": "x"}
    )
    assert status == 422
    paths = {p["path"] for p in body["problems"]}
    assert paths == {"$.language", "$.tags[0]", "$.email"}
    status, body = admin(
        "PATCH", f"/v1/shops/demo/customers/{anna['id']}", {"language": "en", "groups": ["B2B"], "phone": "+49 1"}
    )
    assert status == 200
    assert (body["language"], body["groups"], body["phone"]) == ("en", ["B2B"], "+49 1")
    assert body["email"].lower() == "anna.mueller@example.de"  # the rest stays as it was
    assert body["order_count"] == 2  # aggregates untouched


def test_erasure_removes_personal_data_from_customer_and_orders_and_keeps_the_numbers(admin, customers):
    anna, john = customers
    status, body = admin("DELETE", f"/v1/shops/demo/customers/{anna['id']}")
    assert status == 200 and body["orders_erased"] == 2
    _, erased = admin("GET", f"/v1/shops/demo/customers/{anna['id']}")
    assert erased["email"] is None and erased["phone"] is None and erased["first_name"] == "erased"
    assert erased["erased_at"] and erased["order_count"] == 2 and erased["total_spent"]
    for item in OrderItem.query("demo"):
        text = item.document.lower()
        if item.customer_id == anna["id"]:
            assert "anna" not in text and "mueller@" not in text and "hauptstr" not in text and "0151" not in text
            assert json.loads(item.document)["shipping_address"]["country"] == "DE"
        else:
            assert "john.smith@example.co.uk" in text  # another customer's order is left alone
    # and the erased customer is no longer found by their e-mail address
    _, page = admin("GET", "/v1/shops/demo/customers", query={"email": "anna.mueller@example.de"})
    assert page["customers"] == []


def test_csv_round_trip(admin, customers):
    anna, john = customers
    status, exported = admin("GET", "/v1/shops/demo/customers.csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {r["email"].lower() for r in rows} == {"anna.mueller@example.de", "john.smith@example.co.uk"}
    # edit the export in a spreadsheet: tag John, add a new customer, and import it again
    for r in rows:
        if r["email"].startswith("john"):
            r["tags"] = "VIP|Newsletter"
    rows.append({"email": "neu@example.de", "first_name": "=HYPERLINK(1)", "language": "de", "country": "DE"})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    status, body = admin("POST", "/v1/shops/demo/customers.csv", out.getvalue(), content_type="text/csv")
    assert status == 200 and body == {"created": 1, "updated": 2}
    _, john_now = admin("GET", f"/v1/shops/demo/customers/{john['id']}")
    assert john_now["tags"] == ["VIP", "Newsletter"] and john_now["order_count"] == 1
    _, page = admin("GET", "/v1/shops/demo/customers", query={"email": "NEU@example.de"})
    [new] = page["customers"]
    assert new["first_name"] == "=HYPERLINK(1)" and new["order_count"] == 0
    # a formula-looking cell is exported defused, and comes back unchanged on import
    _, again = admin("GET", "/v1/shops/demo/customers.csv")
    assert "'=HYPERLINK(1)" in again
    status, body = admin("POST", "/v1/shops/demo/customers.csv", again, content_type="text/csv")
    assert status == 200 and body == {"created": 0, "updated": 3}
    _, page = admin("GET", "/v1/shops/demo/customers", query={"email": "neu@example.de"})
    assert page["customers"][0]["first_name"] == "=HYPERLINK(1)"


def test_import_with_a_bad_row_writes_nothing_and_names_line_and_column(admin, customers):
    before = sorted((i.customer_id, i.document) for i in CustomerItem.query("demo"))
    text = (
        "email,first_name,language,country\r\n"
        "new1@example.de,Eva,de,DE\r\n"
        "anna.mueller@example.de,Anna-Maria,de,DE\r\n"
        "not-an-email,Bad,deutsch,Germany\r\n"
    )
    status, body = admin("POST", "/v1/shops/demo/customers.csv", text, content_type="text/csv")
    assert status == 422
    paths = {p["path"] for p in body["problems"]}
    assert paths == {"line 4, column email", "line 4, column language", "line 4, column country"}
    assert sorted((i.customer_id, i.document) for i in CustomerItem.query("demo")) == before
    status, body = admin("POST", "/v1/shops/demo/customers.csv", "mail,name\r\nx@y.de,X\r\n", content_type="text/csv")
    assert status == 422 and {p["path"] for p in body["problems"]} == {
        "line 1, column email",
        "line 1, column mail",
        "line 1, column name",
    }


def test_customer_routes_need_an_admin_key_of_the_shop(admin, customers):
    anna, _ = customers
    assert admin("GET", "/v1/shops/demo/customers", key=admin.shop.key)[0] == 403  # the ingest key
    assert admin("DELETE", f"/v1/shops/demo/customers/{anna['id']}", key="rw_wrong")[0] == 401
    assert CustomerItem.get("demo", anna["id"]).erased_at is None
