"""Every list pages through to its end, and a paging token works only where it was given: the same shop,
the same list, the same filters, for a day."""

from __future__ import annotations

import json
import time

import pytest

from regelwerk.store import paging
from regelwerk.store.tables import TaskItem
from tests.conftest import order_event

LISTS = {  # route: (the key of the rows, how many the data below makes at least)
    "/orders": ("orders", 8),
    "/invoices": ("invoices", 3),
    "/runs": ("runs", 11),
    "/tasks": ("tasks", 5),
    "/customers": ("customers", 2),
}


@pytest.fixture
def shop(demo_shop):
    for n in range(7):
        body = order_event(2, id=f"page-{n}", number=f"P{n}", created_at=f"2026-11-2{n}T10:00:00+00:00")
        assert demo_shop.post(body | {"event_id": f"page-{n}"})[0] == 202
    for n in range(3):
        invoice = {
            "id": f"in-{n}",
            "number": f"RE-P-{n}",
            "currency": "EUR",
            "amount": "10.00",
            "issued_at": f"2026-11-2{n}T10:00:00+00:00",
            "due_at": "2026-12-20T10:00:00+00:00",
        }
        assert demo_shop.post({"invoice": invoice}, path="/v1/shops/demo/invoices/events")[0] == 202
    assert demo_shop.post(order_event(1))[0] == 202  # a second customer
    for n in range(5):
        TaskItem("demo", f"20261128T10000{n}-task{n}", document=json.dumps({"title": f"Task {n}"}), state="open").save()
    demo_shop.drain()
    return demo_shop


@pytest.mark.parametrize("route", LISTS)
def test_every_list_pages_through_to_its_end(shop, route):
    rows_key, at_least = LISTS[route]
    seen: list[str] = []
    token = None
    for _ in range(100):
        status, page = shop.admin("GET", f"{route}?limit=2" + (f"&next={token}" if token else ""))
        assert status == 200, page
        assert len(page[rows_key]) <= 2
        seen += [row.get("id") or row.get("run_id") or row.get("task_id") for row in page[rows_key]]
        token = page.get("next")
        if not token:
            break
    assert len(seen) >= at_least and len(seen) == len(set(seen)), seen


def test_a_token_works_only_with_its_own_list_filters_and_shop(shop):
    status, first = shop.admin("GET", "/orders?limit=2&status=new")
    token = first["next"]
    assert status == 200 and token
    assert shop.admin("GET", f"/orders?limit=2&status=new&next={token}")[0] == 200
    for path in (f"/orders?limit=2&status=paid&next={token}", f"/runs?limit=2&next={token}", f"/tasks?next={token}"):
        status, answer = shop.admin("GET", path)
        assert status == 400 and answer["problems"][0]["path"] == "$.next", (path, answer)


def test_a_token_expires(shop, monkeypatch):
    token = shop.admin("GET", "/orders?limit=2")[1]["next"]
    later = time.time() + paging.TOKEN_SECONDS + 60
    monkeypatch.setattr(paging.time, "time", lambda: later)
    status, answer = shop.admin("GET", f"/orders?limit=2&next={token}")
    assert status == 400 and "expired" in answer["problems"][0]["reason"]
