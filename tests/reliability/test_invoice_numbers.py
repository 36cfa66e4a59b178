"""Invoice numbers: gap-free and in order per shop, given once per invoice whatever the retries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from regelwerk.model.numbering import format_number
from regelwerk.store.numbers import allocate_number, number_of

PATTERN = "RE-{yyyy}-{seq:05}"
DAY = date(2026, 11, 28)


@pytest.mark.slow
def test_fifty_concurrent_invoices_of_one_shop_get_fifty_consecutive_numbers(fresh):
    # When 50 invoices of one shop are numbered at the same time (16 at once)
    with ThreadPoolExecutor(max_workers=16) as pool:
        given = list(pool.map(lambda i: allocate_number("demo", "invoice", f"order-{i}", PATTERN, DAY), range(50)))

    # Then they got RE-2026-00001 .. RE-2026-00050, each once, none skipped
    assert sorted(g.seq for g in given) == list(range(1, 51))
    assert sorted(g.number for g in given) == [format_number(PATTERN, n, DAY) for n in range(1, 51)]
    # And each invoice keeps its number when it is rendered again (a redelivery, a retry)
    with ThreadPoolExecutor(max_workers=16) as pool:
        again = list(pool.map(lambda i: allocate_number("demo", "invoice", f"order-{i}", PATTERN, DAY), range(50)))
    assert again == given


def test_an_invoice_keeps_its_number_and_date_and_another_shop_counts_on_its_own(fresh):
    first = allocate_number("demo", "invoice", "shopify-1001", PATTERN, DAY)
    later = allocate_number("demo", "invoice", "shopify-1001", PATTERN, date(2027, 1, 3))
    assert later == first and first.number == "RE-2026-00001"
    # two channels' orders "1001" are two orders: two numbers
    assert allocate_number("demo", "invoice", "woo-1001", PATTERN, DAY).number == "RE-2026-00002"
    # a new year starts the sequence again; credit notes count on their own; so does every shop
    assert allocate_number("demo", "invoice", "x", PATTERN, date(2027, 1, 3)).number == "RE-2027-00001"
    assert allocate_number("demo", "credit_note", "r1", "GS-{yyyy}-{seq:05}", DAY).number == "GS-2026-00001"
    assert allocate_number("other", "invoice", "y", PATTERN, DAY).number == "RE-2026-00001"
    assert number_of("demo", "invoice", "shopify-1001") == first
    assert number_of("demo", "invoice", "never") is None
