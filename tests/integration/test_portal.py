"""The customer portal: a signed link opens one customer's orders, invoices and pay links, and nothing else."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from regelwerk.documents import links as portal
from regelwerk.store.customers import customer_id_of_email
from regelwerk.store.rules import save_template
from tests.conftest import order_event, sent_emails

ANNA = "anna.mueller@example.de"
JOHN = "john.smith@example.co.uk"


@pytest.fixture
def orders(demo_shop):
    """Anna: 1001 (paid, invoice PDF made by the demo's rule) and 1003; John: 1002, unpaid, with a pay link."""
    demo_shop.post(order_event(1))
    demo_shop.post(
        order_event(
            2,
            payment_url="https://pay.example/1002",
            customer={"email": JOHN, "first_name": "<b>John</b>", "last_name": "Smith", "language": "en"},
        )
    )
    demo_shop.post(order_event(5))
    demo_shop.drain()
    return demo_shop


def open_page(shop, token: str) -> tuple[int, dict[str, str], str]:
    status, headers, body = shop.stack.invoke_http("GET", f"/v1/portal/{token}")
    return status, headers, body.decode()


def token_for(email: str, shop_id: str = "demo", days: float = 1) -> str:
    return portal.sign(shop_id, customer_id_of_email("demo", email), datetime.now(UTC) + timedelta(days=days))


def test_link_shows_only_that_customers_orders_with_invoice_download(orders):
    status, headers, page = open_page(orders, token_for(ANNA))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "1001" in page and "1003" in page and "149.90 EUR" in page
    assert "1002" not in page and "John" not in page and "pay.example" not in page
    urls = re.findall(r'href="([^"]+/shops/demo/documents/invoice/[^"]+)"', page)
    assert len(urls) == 2  # 1001 (paid at checkout) and 1003 (on account, invoice-unpaid-orders)
    for url in urls:
        pdf = urllib.request.urlopen(url.replace("&amp;", "&")).read()  # the local stack's S3
        assert pdf.startswith(b"%PDF")


def test_open_order_has_a_pay_link_and_names_are_escaped(orders):
    status, _, page = open_page(orders, token_for(JOHN))
    assert status == 200
    assert 'href="https://pay.example/1002"' in page
    assert "&lt;b&gt;John&lt;/b&gt;" in page and "<b>John" not in page


@pytest.mark.parametrize("case", ["tampered", "swapped customer", "expired", "other shop", "garbage"])
def test_bad_links_are_refused_without_data(orders, case):
    good = token_for(ANNA)
    body, mac = good.rsplit(".", 1)
    token = {
        "tampered": f"{body}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
        "swapped customer": f"{token_for(JOHN).rsplit('.', 1)[0]}.{mac}",
        "expired": token_for(ANNA, days=-1 / 24),
        "other shop": token_for(ANNA, shop_id="other"),
        "garbage": "not-a-token",
    }[case]
    status, _, page = open_page(orders, token)
    assert status in (403, 404)
    assert "1001" not in page and "Anna" not in page and "1002" not in page


def test_erased_customer_link_opens_nothing(orders):
    from regelwerk.api.customers import erase_customer

    erase_customer("demo", customer_id_of_email("demo", ANNA))
    status, _, page = open_page(orders, token_for(ANNA))
    assert status == 404 and "1001" not in page


def test_templates_get_a_working_portal_url(orders):
    save_template(
        "demo",
        "thank-you",
        "en",
        {"subject": "Thanks {{ order.number }}", "text": "Your orders: {{ portal_url }}"},
    )
    event = order_event(2, id="1004", number="1004", customer={"email": JOHN, "language": "en"})
    orders.post(event | {"event_id": "portal-test-1004"})
    orders.drain()
    [mail] = [m for m in sent_emails() if m["Subject"] == "Thanks 1004"]
    [link] = re.findall(r"http://127\.0\.0\.1:3000(/v1/portal/\S+)", mail.get_body(("plain",)).get_content())
    status, _, body = orders.stack.invoke_http("GET", link)
    assert status == 200 and "1004" in body.decode() and "1001" not in body.decode()
