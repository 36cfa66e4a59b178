"""Customer ids are an HMAC with the shop's own key; customers stored before the shop had one keep their ids."""

from __future__ import annotations

from regelwerk.model.customer import customer_id_for_email
from regelwerk.store import shops
from regelwerk.store.tables import ShopItem
from tests.conftest import order_event

ANNA, JOHN = "anna.mueller@example.de", "john.smith@example.co.uk"


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
