"""The export action's engine: a shop's orders, invoices and customers of a time window as CSV in S3."""

from __future__ import annotations

import csv
import io
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from regelwerk.actions import exports
from regelwerk.actions.exports import export_csv, export_rows, run_export, store_export, window_bounds
from regelwerk.api.customers import erase_customer
from regelwerk.api.customers import export_csv as admin_customers_csv
from regelwerk.documents.csv import CSV_COLUMNS
from regelwerk.model.invoice import Invoice
from regelwerk.model.order import Order
from regelwerk.settings import settings
from regelwerk.store.tables import CustomerItem, InvoiceItem, OrderItem
from tests.conftest import order_event

BERLIN = "Europe/Berlin"
SANTIAGO = "America/Santiago"
DEC_1 = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo(BERLIN))  # "last_month" is November 2026


def parse(body: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """What a spreadsheet sees: the BOM first, then the header and the rows."""
    assert body.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def put_order(shop_id: str, order_id: str, created_at: str, **changes: Any) -> Order:
    """An order stored as the ingest stores it, without running the shop's rules."""
    fields = order_event(1)["order"] | {"id": order_id, "number": f"N-{order_id}", "created_at": created_at}
    order = Order.model_validate(fields | changes)
    OrderItem(
        shop_id,
        order.id,
        status=order.status,
        customer_id=f"cus_{order_id}",
        changed_at=order.changed_at.isoformat(),
        created_at=order.created_at.isoformat(),
        applied_event_id=f"evt-{order_id}",
        document=order.model_dump_json(),
    ).save()
    return order


def put_invoice(shop_id: str, invoice_id: str, issued_at: str, **changes: Any) -> None:
    invoice = Invoice.model_validate(
        {
            "id": invoice_id,
            "number": f"RE-{invoice_id}",
            "order_id": "1001",
            "customer_id": "cus_1",
            "currency": "EUR",
            "amount": "149.90",
            "issued_at": issued_at,
            "due_at": "2026-12-07T00:00:00+01:00",
        }
        | changes
    )
    InvoiceItem(shop_id, invoice.id, status=invoice.status, document=invoice.model_dump_json()).save()


@contextmanager
def dynamodb_calls():
    """The DynamoDB operations the code under test makes, by name."""
    client = OrderItem._get_connection().connection.client
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb", record)
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-call.dynamodb", record)


# ------------------------------------------------------------------ windows (pure)


def test_last_month_is_the_previous_calendar_month_in_the_shops_time_zone():
    start, end = window_bounds("last_month", DEC_1, BERLIN)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00")
    # 23:30 UTC on 30 November is already 1 December in Berlin
    assert window_bounds("last_month", datetime.fromisoformat("2026-11-30T23:30:00+00:00"), BERLIN) == (start, end)
    # ... and 22:30 UTC is still November, so last month is October
    start, _ = window_bounds("last_month", datetime.fromisoformat("2026-11-30T22:30:00+00:00"), BERLIN)
    assert start.isoformat() == "2026-10-01T00:00:00+02:00"


def test_last_month_across_a_dst_change_and_the_year_boundary():
    # March 2026 starts in winter time and ends in summer time (29 March)
    start, end = window_bounds("last_month", datetime(2026, 4, 10, 12, tzinfo=ZoneInfo(BERLIN)), BERLIN)
    assert (start.isoformat(), end.isoformat()) == ("2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00")
    # a month one hour short (as instants: Python subtracts times of one zone by their wall clocks)
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 31 * 24 * 3600 - 3600
    # in January, last month is December of the year before
    start, end = window_bounds("last_month", datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo(BERLIN)), BERLIN)
    assert (start.isoformat(), end.isoformat()) == ("2026-12-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00")
    start, end = window_bounds("last_year", datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo(BERLIN)), BERLIN)
    assert (start.isoformat(), end.isoformat()) == ("2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00")


@pytest.mark.parametrize(
    ("window", "now", "zone", "expected"),
    [
        ("today", "2026-10-25T12:00+01:00", BERLIN, ("2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00")),
        ("yesterday", "2026-03-30T09:00+02:00", BERLIN, ("2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00")),
        ("last_7_days", "2026-03-30T09:00+02:00", BERLIN, ("2026-03-23T00:00+01:00", "2026-03-30T00:00+02:00")),
        ("last_30_days", "2026-12-01T08:00+01:00", BERLIN, ("2026-11-01T00:00+01:00", "2026-12-01T00:00+01:00")),
        ("this_month", "2026-02-14T08:00+01:00", BERLIN, ("2026-02-01T00:00+01:00", "2026-03-01T00:00+01:00")),
        ("this_year", "2026-07-01T08:00+02:00", BERLIN, ("2026-01-01T00:00+01:00", "2027-01-01T00:00+01:00")),
        # Chile's summer time starts at midnight: 6 September 2026 begins at 01:00
        ("yesterday", "2026-09-07T09:00-03:00", SANTIAGO, ("2026-09-06T01:00-03:00", "2026-09-07T00:00-03:00")),
    ],
)  # fmt: skip
def test_every_window_is_a_half_open_range_of_local_days(window, now, zone, expected):
    start, end = window_bounds(window, datetime.fromisoformat(now), zone)
    assert (start.isoformat(timespec="minutes"), end.isoformat(timespec="minutes")) == expected


def test_all_is_unbounded_and_bad_input_is_refused():
    assert window_bounds("all", DEC_1, BERLIN) == (None, None)
    with pytest.raises(ValueError, match="unknown window 'last_week'"):
        window_bounds("last_week", DEC_1, BERLIN)
    with pytest.raises(ValueError, match="time zone"):
        window_bounds("today", datetime(2026, 12, 1, 8), BERLIN)


# ------------------------------------------------------------------ orders


def test_orders_of_last_month_are_exactly_those_created_in_it(demo_shop):
    # Given orders imported through the ingest API around the edges of November in Berlin
    created = {
        "before-start": "2026-10-31T23:59:59+01:00",
        "at-start": "2026-11-01T08:00:00+09:00",  # 00:00 in Berlin; its stored text reads "08:00"
        "first-night": "2026-10-31T23:30:00+00:00",  # 00:30 on 1 November in Berlin
        "mid-month": "2026-11-23T09:15:00+01:00",
        "last-second": "2026-11-30T23:59:59+01:00",
        "at-end": "2026-11-30T15:00:00-08:00",  # 00:00 on 1 December in Berlin: the end is excluded
        "after-end": "2026-11-30T23:30:00+00:00",
    }
    totals = {"first-night": "0.1", "mid-month": "149.90", "last-second": "1234567890123.45", "at-start": "19.99"}
    for n, (name, at) in enumerate(created.items()):
        event = order_event(1, id=name, number=f"20{n}", created_at=at, paid_at=at, total=totals.get(name, "5.00"))
        event["event_id"] = f"export-{name}"
        status, _ = demo_shop.post(event)
        assert status == 202

    # When the orders of last month are exported on 1 December
    body, count = export_csv("demo", "orders", "last_month", DEC_1, BERLIN)

    # Then the CSV holds those four, oldest first, with exact amounts and Berlin times
    header, rows = parse(body)
    assert header == [
        "id",
        "number",
        "created_at",
        "status",
        "customer_id",
        "email",
        "currency",
        "total",
        "paid_at",
        "shipped_at",
        "item_count",
    ]
    assert [r["id"] for r in rows] == ["at-start", "first-night", "mid-month", "last-second"]
    assert count == 4
    assert [r["total"] for r in rows] == ["19.99", "0.10", "149.90", "1234567890123.45"]
    assert sum(Decimal(r["total"]) for r in rows) == Decimal("1234567890293.44")
    first = rows[1]
    assert first["created_at"] == "2026-11-01T00:30:00+01:00" and first["paid_at"] == first["created_at"]
    assert rows[0]["created_at"] == "2026-11-01T00:00:00+01:00"
    assert (first["number"], first["status"], first["currency"], first["item_count"]) == ("202", "paid", "EUR", "6")
    assert first["email"] == "anna.mueller@example.de" and first["shipped_at"] == ""
    assert first["customer_id"] == OrderItem.get("demo", "first-night").customer_id.strip() != ""
    # no more personal data than the customer CSV: no name, phone or address anywhere
    text = body.decode("utf-8-sig")
    assert "Anna" not in text and "0151" not in text and "Hauptstra" not in text
    # the same window read as rows (key order) holds the same orders
    start, end = window_bounds("last_month", DEC_1, BERLIN)
    assert sorted(r["id"] for r in export_rows("demo", "orders", start, end, BERLIN)) == sorted(r["id"] for r in rows)


def test_cells_a_spreadsheet_would_run_are_defused(fresh):
    put_order("demo", "1", "2026-11-02T10:00:00+01:00", number='=HYPERLINK("http://evil","x")')
    put_order("demo", "2", "2026-11-03T10:00:00+01:00", number="@SUM(A1)", customer={"email": "+cmd@evil.de"})
    put_order("demo", "3", "2026-11-04T10:00:00+01:00", number="-2+3")
    put_order("demo", "4", "2026-11-05T10:00:00+01:00", number="+HYPERLINK(1)")
    put_invoice("demo", "inv-credit", "2026-11-06T10:00:00+01:00", amount="-5", number="=1+1")

    _, orders = parse(export_csv("demo", "orders", "all", DEC_1, BERLIN)[0])
    assert [r["number"] for r in orders] == ['\'=HYPERLINK("http://evil","x")', "'@SUM(A1)", "'-2+3", "'+HYPERLINK(1)"]
    assert orders[1]["email"] == "'+cmd@evil.de"
    _, invoices = parse(export_csv("demo", "invoices", "all", DEC_1, BERLIN)[0])
    # a negative amount is a number, not a formula: it stays as it is
    assert (invoices[0]["number"], invoices[0]["amount"]) == ("'=1+1", "-5.00")


# ------------------------------------------------------------------ invoices


def test_invoices_of_a_window_with_their_dates_amounts_and_dunning_level(fresh):
    put_invoice("demo", "inv-oct", "2026-10-31T23:00:00+01:00")
    put_invoice(
        "demo",
        "inv-nov",
        "2026-11-10T09:00:00+00:00",
        status="paid",
        amount="1234.5",
        amount_paid="1234.50",
        paid_at="2026-11-20T12:00:00+01:00",
        dunning_level=2,
        currency="JPY",
    )
    put_invoice("demo", "inv-dec", "2026-11-30T23:00:00+00:00")  # 1 December in Berlin

    body, count = export_csv("demo", "invoices", "last_month", DEC_1, BERLIN)

    header, rows = parse(body)
    assert header == list(exports.INVOICE_COLUMNS)
    assert count == 1
    assert rows == [
        {
            "id": "inv-nov",
            "number": "RE-inv-nov",
            "order_id": "1001",
            "customer_id": "cus_1",
            "issued_at": "2026-11-10T10:00:00+01:00",
            "due_at": "2026-12-07T00:00:00+01:00",
            "currency": "JPY",
            "amount": "1235",  # yen have no minor unit
            "amount_paid": "1235",
            "status": "paid",
            "paid_at": "2026-11-20T12:00:00+01:00",
            "dunning_level": "2",
        }
    ]


# ------------------------------------------------------------------ customers


def test_customers_export_shares_the_customer_csv_and_an_erased_customer_shows_no_personal_data(demo_shop):
    # Given Anna (two orders) and John (one) from the ingest API, and Anna erased
    for n in (1, 2, 5):
        event = order_event(n)
        status, _ = demo_shop.post(event)
        assert status == 202
    anna = next(i for i in CustomerItem.query("demo") if "anna" in i.document.lower())
    erase_customer("demo", anna.customer_id)
    # a later order filled Anna's profile in again, but she stays erased
    anna = CustomerItem.get("demo", anna.customer_id)
    anna.update(actions=[CustomerItem.document.set(anna.document.replace('"email":null', '"email":"anna@new.de"'))])
    assert "anna@new.de" in CustomerItem.get("demo", anna.customer_id).document

    body, count = export_csv("demo", "customers", "all", DEC_1, BERLIN)

    header, rows = parse(body)
    assert header == list(CSV_COLUMNS) and count == 2
    by_id = {r["id"]: r for r in rows}
    erased = by_id[anna.customer_id]
    assert (erased["email"], erased["phone"], erased["first_name"], erased["last_name"]) == ("", "", "erased", "erased")
    assert erased["order_count"] == "2" and erased["total_spent"] == "EUR 174.80"
    assert "anna" not in body.decode("utf-8-sig").lower() and "0151" not in body.decode("utf-8-sig")
    # John's row is the admin API's row, times shown in the shop's zone
    _, admin_rows = parse(b"\xef\xbb\xbf" + admin_customers_csv("demo").encode())
    [john] = [r for r in rows if r["email"].startswith("john")]
    [admin_john] = [r for r in admin_rows if r["email"].startswith("john")]
    for column in CSV_COLUMNS:
        if column.endswith("_at"):
            assert datetime.fromisoformat(john[column]) == datetime.fromisoformat(admin_john[column])
        else:
            assert john[column] == admin_john[column], column
    assert john["first_order_at"] == "2026-11-23T19:02:00+01:00"
    # and the erased customer's orders carry no e-mail address either
    _, orders = parse(export_csv("demo", "orders", "all", DEC_1, BERLIN)[0])
    assert {r["email"] for r in orders if r["customer_id"] == anna.customer_id} == {""}


def test_customers_of_a_window_are_those_won_in_it(fresh):
    def put_customer(customer_id: str, first_order_at: str | None) -> None:
        CustomerItem(
            "demo",
            customer_id,
            document=f'{{"id": "{customer_id}", "email": "{customer_id}@example.de"}}',
            order_count=1 if first_order_at else 0,
            spent_minor={"EUR": 1990} if first_order_at else {},
            first_order_at=first_order_at,
            last_order_at=first_order_at,
        ).save()

    put_customer("cus_october", "2026-10-31T23:59:00+01:00")
    put_customer("cus_november", "2026-10-31T23:30:00+00:00")  # 00:30 on 1 November in Berlin
    put_customer("cus_no_orders", None)

    _, rows = parse(export_csv("demo", "customers", "last_month", DEC_1, BERLIN)[0])
    assert [(r["id"], r["total_spent"]) for r in rows] == [("cus_november", "EUR 19.90")]
    _, rows = parse(export_csv("demo", "customers", "all", DEC_1, BERLIN)[0])
    assert [r["id"] for r in rows] == ["cus_october", "cus_november", "cus_no_orders"]


# ------------------------------------------------------------------ shops and partitions


def test_two_shops_never_see_each_others_rows(fresh):
    for shop in ("demo", "other"):
        for n in range(3):
            put_order(shop, f"{shop}-o{n}", f"2026-11-0{n + 1}T10:00:00+01:00")
            put_invoice(shop, f"{shop}-i{n}", f"2026-11-0{n + 1}T10:00:00+01:00")
            CustomerItem(shop, f"{shop}-c{n}", document=f'{{"id": "{shop}-c{n}"}}', spent_minor={}).save()

    for shop in ("demo", "other"):
        for of in ("orders", "invoices", "customers"):
            _, rows = parse(export_csv(shop, of, "all", DEC_1, BERLIN)[0])
            assert len(rows) == 3 and all(r["id"].startswith(f"{shop}-") for r in rows), (shop, of)
    _, rows = parse(export_csv("nobody", "orders", "all", DEC_1, BERLIN)[0])
    assert rows == []


def test_a_large_partition_is_read_page_by_page_and_fully_exported(fresh):
    # Given 250 orders of one shop (more than one Query page) and a few of another
    with OrderItem.batch_write() as batch:
        for n in range(250):
            order = Order.model_validate(
                order_event(1)["order"]
                | {"id": f"{n:04d}", "number": str(5000 + n), "created_at": f"2026-11-{n % 28 + 1:02d}T12:00:00+01:00"}
            )
            batch.save(
                OrderItem(
                    "demo",
                    order.id,
                    status=order.status,
                    customer_id="cus_many",
                    changed_at=order.changed_at.isoformat(),
                    created_at=order.created_at.isoformat(),
                    applied_event_id=f"evt-{n}",
                    document=order.model_dump_json(),
                )
            )
    for n in range(5):
        put_order("other", f"x{n}", "2026-11-10T12:00:00+01:00")

    # When they are exported
    with dynamodb_calls() as calls:
        body, count = export_csv("demo", "orders", "last_month", DEC_1, BERLIN)

    # Then every one of them is in the file, read with several Queries and no Scan
    _, rows = parse(body)
    assert count == 250 and sorted(r["id"] for r in rows) == [f"{n:04d}" for n in range(250)]
    assert sum(Decimal(r["total"]) for r in rows) == Decimal("149.90") * 250
    assert calls.count("Query") >= 2 and "Scan" not in calls


# ------------------------------------------------------------------ S3


def test_store_export_puts_an_encrypted_csv_and_returns_a_url(demo_shop):
    put_order("demo", "1", "2026-11-02T10:00:00+01:00")
    put_order("demo", "2", "2026-10-02T10:00:00+02:00")

    output = run_export("demo", "run-1#0", "orders", "last_month", DEC_1, BERLIN)

    s3 = boto3.client("s3", region_name=settings().aws_region)
    assert output["bucket"] == settings().documents_bucket != ""
    assert output["key"].startswith("shops/demo/exports/orders/") and output["key"].endswith(".csv")
    assert (output["filename"], output["rows"], output["of"], output["window"]) == (
        "orders_2026-11-01_2026-11-30.csv",
        1,
        "orders",
        "last_month",
    )
    assert output["content_type"] == "text/csv; charset=utf-8"
    head = s3.head_object(Bucket=output["bucket"], Key=output["key"])
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "text/csv; charset=utf-8"
    assert head["ContentDisposition"] == 'attachment; filename="orders_2026-11-01_2026-11-30.csv"'
    assert "X-Amz-Expires=604800" in output["url"]
    downloaded = urllib.request.urlopen(output["url"]).read()  # the local stack's S3
    _, rows = parse(downloaded)
    assert [r["id"] for r in rows] == ["1"]

    # doing the action again (a redelivered message) overwrites the one object
    put_order("demo", "3", "2026-11-03T10:00:00+01:00")
    again = run_export("demo", "run-1#0", "orders", "last_month", DEC_1, BERLIN)
    assert again["key"] == output["key"] and again["rows"] == 2
    listed = s3.list_objects_v2(Bucket=output["bucket"], Prefix="shops/demo/exports/")
    assert [o["Key"] for o in listed["Contents"]] == [output["key"]]
    # another action is another object
    other = store_export("demo", "run-2#0", "orders", "all", b"\xef\xbb\xbfid\r\n", 0)
    assert other["key"] != output["key"] and other["filename"] == "orders_all.csv"
