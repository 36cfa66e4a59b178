"""API keys with a life cycle: listed without the key, revoked by id, and a revoked key stops at once."""

from __future__ import annotations

import json

from tests.conftest import order_event
from tests.integration import test_cli

cli = test_cli.cli  # the fixture: the CLI against this test's stack, its output captured


def test_keys_are_listed_by_id_and_last_use_never_by_the_key(demo_shop, cli):
    status, created = demo_shop.admin("POST", "/keys", {"scope": "ingest", "label": "ERP"})
    assert status == 201 and created["key"].startswith("rw_") and created["id"].startswith("key_")
    assert demo_shop.post(order_event(1), key=created["key"])[0] == 202  # the key works, and its use is noted

    status, listed = demo_shop.admin("GET", "/keys")
    assert status == 200
    erp = next(k for k in listed["keys"] if k["id"] == created["id"])
    assert erp["label"] == "ERP" and erp["scope"] == "ingest" and erp["last_used_at"]
    assert created["key"] not in json.dumps(listed)  # never the key itself
    code, out = cli("keys", "list", "demo")
    assert code == 0 and created["id"] in out and "ERP" in out and created["key"] not in out


def test_a_revoked_key_stops_at_once(demo_shop, cli):
    key = demo_shop.admin("POST", "/keys", {"scope": "ingest", "label": "leaked"})[1]
    assert demo_shop.post(order_event(1), key=key["key"])[0] == 202
    code, out = cli("keys", "revoke", "demo", key["id"])
    assert code == 0 and "revoked" in out
    # the very next request, in the same warm container that just used it, is refused
    status, answer = demo_shop.post(order_event(2), key=key["key"])
    assert status == 401, answer


def test_the_last_admin_key_is_kept_and_unknown_ids_or_shops_are_one_line(demo_shop, cli):
    admins = [k for k in demo_shop.admin("GET", "/keys")[1]["keys"] if k["scope"] == "admin"]
    assert len(admins) == 1
    status, answer = demo_shop.admin("DELETE", f"/keys/{admins[0]['id']}")
    assert status == 409 and "last admin key" in answer["message"]
    assert demo_shop.admin("DELETE", "/keys/key_000000000000")[0] == 404
    code, out = cli("keys", "list", "nosuchshop")
    assert code != 0 and len(out.strip().splitlines()) == 1 and "nosuchshop" in out
