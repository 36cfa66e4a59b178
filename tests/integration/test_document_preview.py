"""The admin API's document preview: the PDF function renders it, nothing is stored."""

from __future__ import annotations

import io

import boto3
from pypdf import PdfReader

from tests.conftest import order_event


def preview(shop, kind: str, body: dict) -> tuple[int, dict[str, str], bytes]:
    import json

    return shop.stack.invoke_http(
        "POST",
        f"/v1/shops/demo/documents/{kind}/preview",
        {"Authorization": f"Bearer {shop.admin_key}", "Content-Type": "application/json"},
        json.dumps(body),
    )


def text_of(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_an_invoice_preview_for_a_stored_order_is_a_pdf_and_nothing_is_stored(demo_shop):
    demo_shop.post(order_event(1))
    demo_shop.drain()
    bucket = demo_shop.stack.resources.buckets["DocumentsBucket"]
    before = boto3.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    status, headers, pdf = preview(demo_shop, "invoice", {"order_id": "9007199254740993"})
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == 'inline; filename="Rechnung-1001.pdf"'
    assert pdf.startswith(b"%PDF") and "Rechnung" in text_of(pdf) and "149,90" in text_of(pdf)
    # the demo shop's logo.png (uploaded by `regelwerk apply`) in the letterhead; a paid invoice has no QR code
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1
    assert boto3.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == before


def test_a_delivery_note_preview_for_a_given_order(demo_shop):
    order = order_event(2)["order"]
    status, _, pdf = preview(demo_shop, "delivery_note", {"order": order})
    assert status == 200 and "Delivery note" in text_of(pdf) and "1002" in text_of(pdf)


def test_a_dunning_letter_preview_for_a_stored_invoice(demo_shop):
    invoice = {
        "invoice": {
            "id": "in_7",
            "number": "RE-7",
            "currency": "EUR",
            "amount": "50.00",
            "status": "open",
            "issued_at": "2026-11-01T10:00:00+01:00",
            "due_at": "2026-11-15T23:59:59+01:00",
        }
    }
    demo_shop.post(invoice, path="/v1/shops/demo/invoices/events")
    status, _, pdf = preview(demo_shop, "dunning_letter", {"invoice_id": "in_7", "dunning_level": 3})
    assert status == 200 and "Letzte Mahnung" in text_of(pdf) and "RE-7" in text_of(pdf)


def test_bad_preview_requests_are_refused(demo_shop):
    assert preview(demo_shop, "invoice", {"order_id": "nope"})[0] == 404
    assert preview(demo_shop, "poster", {"order_id": "1"})[0] == 422
    assert preview(demo_shop, "dunning_letter", {})[0] == 422
    assert preview(demo_shop, "invoice", {"order": {"id": "x"}})[0] == 422


def test_a_logo_that_is_not_a_small_png_is_refused():
    from regelwerk.documents.branding import problems

    assert problems(b"GIF89a....") == ["logo.png is not a PNG image"]
    assert problems(b"\x89PNG\r\n\x1a\n" + b"0" * 300_000)[0].startswith("logo.png is 300008 bytes; at most 204800")
