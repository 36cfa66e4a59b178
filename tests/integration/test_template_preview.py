"""Template previews: the language asked for, subject, HTML and text as JSON, and a page that runs no script."""

from __future__ import annotations

import json

from regelwerk.store.rules import save_template
from tests.conftest import order_event


def preview(shop, name: str, body: dict) -> tuple[int, dict[str, str], bytes]:
    status, headers, answer = shop.stack.invoke_http(
        "POST",
        f"/v1/shops/demo/templates/{name}/preview",
        {"Authorization": f"Bearer {shop.admin_key}", "Content-Type": "application/json"},
        json.dumps(body),
    )
    return status, {k.lower(): v for k, v in (headers or {}).items()}, answer


def test_a_preview_renders_the_language_asked_for_with_every_part(demo_shop):
    order = order_event(1)["order"]
    status, _, answer = preview(demo_shop, "thank-you", {"order": order, "language": "en", "format": "json"})
    assert status == 200, answer
    english = json.loads(answer)
    assert english["language"] == "en" and english["subject"] == "Thank you for your order 1001"
    assert english["html"] and english["text"] and "1001" in english["text"]
    status, _, answer = preview(demo_shop, "thank-you", {"order": order, "language": "de", "format": "json"})
    assert json.loads(answer)["subject"] == "Danke für Ihre Bestellung 1001"
    # a language the template does not have is a 404 naming it, not a silent fallback
    status, _, answer = preview(demo_shop, "thank-you", {"order": order, "language": "fr"})
    assert status == 404 and b"'fr'" in answer


def test_an_sms_preview_says_its_encoding_and_segments(demo_shop):
    order = order_event(3)["order"]
    status, _, answer = preview(demo_shop, "shipped", {"order": order, "format": "json"})
    assert status == 200, answer
    sms = json.loads(answer)
    assert sms["type"] == "sms" and sms["encoding"] == "GSM-7" and sms["segments"] == 1


def test_customer_data_in_a_preview_page_is_text_and_the_page_runs_no_script(demo_shop):
    save_template("demo", "hello-sms", "de", {"text": "Hallo {{ customer.first_name }}, Ihr Paket ist unterwegs."})
    order = order_event(3)["order"]
    order["customer"]["first_name"] = "<img src=x onerror=alert(1)>"
    status, headers, page = preview(demo_shop, "hello-sms", {"order": order})  # an SMS: its text as the page
    assert status == 200
    assert b"<img src=x" not in page and b"&lt;img src=x onerror=alert(1)&gt;" in page
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script at all
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
