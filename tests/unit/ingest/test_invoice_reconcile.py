"""Which invoice is stored when an event meets the stored one: out-of-order senders, Regelwerk's dunning level."""

from __future__ import annotations

from regelwerk.ingest.invoices import reconcile
from regelwerk.model.invoice import Invoice

BASE = {
    "id": "in_1",
    "number": "RE-1",
    "currency": "EUR",
    "amount": "10.00",
    "issued_at": "2026-11-01T10:00:00+01:00",
    "due_at": "2026-11-15T10:00:00+01:00",
}


def invoice(**changes) -> Invoice:
    return Invoice.model_validate(BASE | changes)


def test_a_new_invoice_is_taken_as_it_comes():
    assert reconcile(None, invoice(status="open")) == invoice(status="open")


def test_an_out_of_order_sender_cannot_reopen_a_paid_invoice():
    paid = invoice(status="paid", paid_at="2026-11-10T10:00:00+01:00")
    assert reconcile(paid, invoice(status="open"), keep_later_status=True) is paid
    assert reconcile(paid, invoice(status="open")).status == "open"  # a shop's own event may reopen it


def test_the_dunning_level_regelwerk_reached_is_kept():
    dunned = invoice(status="open", dunning_level=2)
    assert reconcile(dunned, invoice(status="open")).dunning_level == 2
    assert reconcile(dunned, invoice(status="open", dunning_level=3)).dunning_level == 3
