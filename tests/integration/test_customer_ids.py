"""Customer ids are an HMAC with the shop's own key; customers stored before the shop had one keep their ids."""

from __future__ import annotations

from regelwerk.model.customer import customer_id_for_email
from regelwerk.store import shops
from regelwerk.store.rules import save_rule
from regelwerk.store.tables import LedgerItem, ShopItem
from tests.conftest import order_event
from tests.integration.test_cli import cli  # noqa: F401  # the fixture: the CLI against the local stack

ANNA, JOHN = "anna.mueller@example.de", "john.smith@example.co.uk"
ONCE = {
    "id": "once-welcome",
    "name": "A welcome once per customer",
    "trigger": {"event": "order.imported"},
    "limit": "once_per_customer",
    "actions": [{"type": "create_task", "title": "Welcome {{ order.number }}"}],
}


def customer(shop, email: str) -> dict:
    _, page = shop.admin("GET", f"/customers?email={email}")
    [found] = page["customers"]
    return found


def test_a_shop_gets_its_key_when_saved_and_its_ids_cannot_be_derived_without_it(demo_shop):
    # Given the demo shop as `regelwerk apply` saved it
    key = shops.customer_id_key("demo")
    assert key and len(key) == 32
    # When Anna orders
    assert demo_shop.post(order_event(1))[0] == 202
    # Then her id is the HMAC with the shop's key, not the sha256 anyone could compute from her address
    anna = customer(demo_shop, ANNA)
    assert anna["id"] == customer_id_for_email("demo", ANNA, key)
    assert anna["id"] != customer_id_for_email("demo", ANNA)
    # and saving the shop again keeps its key (ids stay stable)
    shops.save_shop(shops.get_shop("demo"))
    shops.clear_cache()
    assert shops.customer_id_key("demo") == key


def test_a_customer_stored_before_the_key_keeps_the_legacy_id_and_new_customers_get_hmac_ids(demo_shop):
    # Given a shop from before customer-id keys: Anna is stored under the legacy sha256 id
    ShopItem("demo", shops.CUSTOMER_ID_KEY).delete()
    shops.clear_cache()
    assert demo_shop.post(order_event(1))[0] == 202
    legacy = customer_id_for_email("demo", ANNA)
    assert customer(demo_shop, ANNA)["id"] == legacy
    # When the shop is saved again (it gets its key) and Anna and John order
    shops.save_shop(shops.get_shop("demo"))
    key = shops.customer_id_key("demo")
    assert key
    assert demo_shop.post(order_event(5))[0] == 202  # Anna's second order, the same e-mail
    assert demo_shop.post(order_event(2))[0] == 202  # John's first
    # Then Anna's second order lands on her legacy record, and John, new, gets the HMAC id
    anna = customer(demo_shop, ANNA)
    assert anna["id"] == legacy and anna["order_count"] == 2
    assert customer(demo_shop, JOHN)["id"] == customer_id_for_email("demo", JOHN, key)


def test_migrate_customer_ids_moves_a_legacy_customer_and_what_names_her(cli):  # noqa: F811
    # Given Anna stored under the legacy id before the shop had its key, with an order, its runs and a
    # once-per-customer claim, and the shop since saved with its key
    shop = cli.shop
    ShopItem("demo", shops.CUSTOMER_ID_KEY).delete()
    shops.clear_cache()
    save_rule("demo", ONCE)
    status, answer = shop.post(order_event(1))
    assert status == 202
    shop.drain()
    legacy = customer_id_for_email("demo", ANNA)
    assert customer(shop, ANNA)["id"] == legacy
    assert LedgerItem.count(f"limit#demo#once-welcome#{legacy}") == 1
    shops.save_shop(shops.get_shop("demo"))
    keyed = customer_id_for_email("demo", ANNA, shops.customer_id_key("demo"))
    # When the migration runs
    code, out = cli("migrate-customer-ids", "demo")
    # Then she is under her HMAC id with her order, her runs and her claim, and the legacy id is gone
    assert code == 0 and out.strip() == (
        "moved 1 customer(s) of shop demo to keyed ids; 0 kept their id (keyed already, or matched on other data)"
    )
    anna = customer(shop, ANNA)
    assert anna["id"] == keyed and anna["order_count"] == 1
    assert shop.admin("GET", f"/customers/{legacy}")[0] == 404
    _, detail = shop.admin("GET", f"/customers/{keyed}")
    assert [o["number"] for o in detail["orders"]] == ["1001"]
    _, runs = shop.admin("GET", f"/runs?customer={keyed}")
    assert answer["run_id"] in {r["run_id"] for r in runs["runs"]}
    assert LedgerItem.count(f"limit#demo#once-welcome#{keyed}") == 1
    assert LedgerItem.count(f"limit#demo#once-welcome#{legacy}") == 0
    # and her next order still counts on her, once: the limit did not start again
    assert shop.post(order_event(5))[0] == 202
    assert customer(shop, ANNA)["order_count"] == 2
    # a second run has nothing left to move
    assert cli("migrate-customer-ids", "demo")[1].strip().startswith("moved 0 customer(s)")
