"""The outbox writer: every e-mail lands as files a person can open, whatever it carries."""

from __future__ import annotations

from email.message import EmailMessage

import boto3

from regelwerk_cli import outbox


def test_an_email_with_a_csv_and_a_pdf_attachment_is_written_with_both_files(fresh, tmp_path):
    # Given an e-mail with the monthly export's CSV (text/csv) and a PDF attached, accepted by SES
    fresh.verify_sender("shop@outbox.example")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@outbox.example", "owner@outbox.example", "Export"
    message["Content-Language"] = "de"
    message.set_content("Der Export des letzten Monats.")
    csv = "\ufeffid,number,total\r\n1001,1001,49.90\r\n"
    message.add_attachment(csv.encode(), maintype="text", subtype="csv", filename="orders_last_month.csv")
    message.add_attachment(b"%PDF-1.7 fake", maintype="application", subtype="pdf", filename="Rechnung-1001.pdf")
    boto3.client("sesv2").send_email(
        FromEmailAddress="shop@outbox.example",
        Destination={"ToAddresses": ["owner@outbox.example"]},
        Content={"Raw": {"Data": message.as_bytes()}},
    )
    bucket = next(iter(fresh.resources.buckets.values()))
    # When the outbox is written
    found = outbox.collect(tmp_path / "outbox", bucket, [])
    # Then both attachments are there, byte for byte
    [mail] = found["mail"]
    assert mail["attachments"] == ["orders_last_month.csv", "Rechnung-1001.pdf"]
    written = list((tmp_path / "outbox" / "mail").iterdir())
    [csv_file] = [p for p in written if p.name.endswith("-orders_last_month.csv")]
    [pdf_file] = [p for p in written if p.name.endswith("-Rechnung-1001.pdf")]
    assert csv_file.read_bytes() == csv.encode()
    assert pdf_file.read_bytes() == b"%PDF-1.7 fake"
