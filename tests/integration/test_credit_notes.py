"""The credit note of a refund: its own number, the refunded lines, and the invoice it corrects."""

from __future__ import annotations

import io

from pypdf import PdfReader

from regelwerk.store.rules import save_rule, save_template
from tests.conftest import order_event, sent_emails
from tests.integration.test_refunds import REFUND, refunded


def test_the_credit_note_names_the_invoice_it_corrects(demo_shop):
    save_template("demo", "credit-note", "de", {"subject": "Gutschrift {{ order.number }}", "text": "Anbei."})
    save_rule(
        "demo",
        {
            "id": "credit-note",
            "name": "A credit note for every refund",
            "trigger": {"event": "order.refunded"},
            "mode": "sequential",
            "actions": [
                {"type": "pdf", "document": "credit_note", "as": "note"},
                {"type": "email", "template": "credit-note", "to": "customer", "attach": ["note"]},
            ],
        },
    )
    demo_shop.post(order_event(1))  # the demo's invoice rule numbers and sends the invoice
    demo_shop.drain()
    demo_shop.post(refunded(REFUND))
    demo_shop.drain()

    [mail] = [m for m in sent_emails() if m["Subject"] == "Gutschrift 1001"]
    [pdf] = list(mail.iter_attachments())
    assert pdf.get_filename().startswith("Gutschrift-GS-") and pdf.get_filename().endswith("-00001.pdf")
    [invoice_mail] = [m for m in sent_emails() if "Rechnung" in m["Subject"]]
    [invoice_pdf] = list(invoice_mail.iter_attachments())
    invoice_number = invoice_pdf.get_filename().removeprefix("Rechnung-").removesuffix(".pdf")
    text = PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
    assert invoice_number in text  # BT-25: the invoice it corrects
