"""Payment reminders and dunning: a daily scan of each shop's open invoices, and one event per step.

**The scan** runs once a day per shop with dunning levels (``shop.yaml: dunning``), at ``run_at``
in the shop's time zone, on an EventBridge Scheduler schedule made when the shop is saved. It
Queries the sparse ``open-by-due`` index (only open invoices are in it) for invoices due early
enough to have reached the first level, a page at a time, and fans their ids out to the actions
queue, 100 per message and 10 messages per SendMessageBatch. After ``MAX_PAGES`` pages it puts its
own continuation on the queue, so no invocation grows with the number of invoices.

**Each invoice** (``advance``) is checked again on the stored invoice: still open, and how many
days past its due date in the shop's time zone. If that reaches a level above the invoice's
current ``dunning_level``, the invoice moves to that level (one step per scan, the highest one
reached: an invoice found 30 days late gets the final notice, not three letters at once) and
``invoice.overdue`` is emitted, with ``dunning`` = {level, name, fee, after_days} beside the
invoice. The event id is made from the invoice and the level, so each step happens once, whatever
the retries and however often the scan runs.

**Paid meanwhile**: a paid, voided or cancelled invoice leaves the index when it is stored, and
the send-time guard (``delivery.guards.still_due``) is asked again before an ``invoice.overdue`` action goes out,
so a reminder already queued is not sent for an invoice paid in between.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..delivery import queue
from ..model.invoice import Invoice
from ..model.shop import Shop
from ..store.invoices import invoice_of
from ..store.runs import note_progress, open_job_run
from ..store.shops import get_shop
from ..store.tables import InvoiceItem
from .invoices import process_invoice
from .run_writer import IngestResult, event_id_for

PAGE_SIZE = 1000  # keys-only index items: a page is small
IDS_PER_MESSAGE = 100
MAX_PAGES = 5  # per invocation (5,000 invoices): then the scan continues in a new one


def local_day(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def days_overdue(invoice: Invoice, today: date, time_zone: str) -> int:
    return (today - local_day(invoice.due_at, time_zone)).days


def _cutoff(shop: Shop, today: date) -> str:
    """Invoices due before this UTC instant are late enough for the first level."""
    assert shop.dunning is not None
    first = shop.dunning.levels[0].after_days
    last_due_day = today - timedelta(days=first)
    start_of_next = datetime.combine(last_due_day + timedelta(days=1), datetime.min.time(), ZoneInfo(shop.time_zone))
    return start_of_next.astimezone(UTC).isoformat()


def _scan_run(shop: Shop, slot: str, received_at: datetime) -> str:
    """The run-log entry of one day's scan (created once per slot); its pages show as entries."""

    run_id = event_id_for(shop.id, "dunning", f"scan@{slot}", b"")
    doc = {
        "platform": "schedule",
        "job": "overdue_scan",
        "slot": slot,
        "note": "daily overdue scan: open invoices past their due date, fanned out to the actions queue",
        "events": [],
    }
    open_job_run(shop.id, run_id, received_at, "overdue_scan", doc)
    return run_id


def scan(shop_id: str, slot: str, cursor: dict[str, Any] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Scan one shop's open invoices for one daily slot (``2026-12-01T06:00:00Z``); fan them out."""

    now = now or datetime.now(UTC)
    shop = get_shop(shop_id)
    if shop.dunning is None:
        return {"shop_id": shop_id, "slot": slot, "invoices": 0, "note": "the shop has no dunning levels"}
    today = local_day(datetime.fromisoformat(slot.replace("Z", "+00:00")), shop.time_zone)
    run_id = _scan_run(shop, slot, now)
    found = 0
    pages = 0
    last: dict[str, Any] | None = cursor
    while pages < MAX_PAGES:
        result = InvoiceItem.open_by_due.query(
            shop.id,
            InvoiceItem.due_at < _cutoff(shop, today),
            page_size=PAGE_SIZE,
            limit=PAGE_SIZE,
            last_evaluated_key=last,
        )
        ids = [item.invoice_id for item in result]
        last = result.last_evaluated_key
        pages += 1
        found += len(ids)
        messages = [
            (
                "actions",
                {
                    "fanout": "overdue",
                    "shop_id": shop.id,
                    "slot": slot,
                    "run_id": run_id,
                    "invoice_ids": ids[i : i + IDS_PER_MESSAGE],
                },
            )
            for i in range(0, len(ids), IDS_PER_MESSAGE)
        ]
        queue.send(messages)
        _progress(shop.id, run_id, f"page {pages}", found=len(ids), cursor=bool(last))
        if not last:
            break
    if last:  # more than this invocation should take on: the next one goes on from here
        queue.send([("actions", {"fanout": "overdue_scan", "shop_id": shop.id, "slot": slot, "cursor": last})])
    return {
        "shop_id": shop.id,
        "slot": slot,
        "run_id": run_id,
        "invoices": found,
        "pages": pages,
        "continues": bool(last),
    }


def _progress(shop_id: str, run_id: str, label: str, **counts: Any) -> None:

    note_progress(shop_id, run_id, f"{run_id}:scan:{label}", {"type": "overdue_scan", "event": "overdue_scan"} | counts)


def advance(shop: Shop, invoice_id: str, slot: str) -> IngestResult | None:
    """Move one invoice to the dunning level it has reached and emit invoice.overdue (once per level)."""

    try:
        item = InvoiceItem.get(shop.id, invoice_id, consistent_read=True)
    except InvoiceItem.DoesNotExist:
        return None
    invoice = invoice_of(item)
    if invoice.status != "open" or shop.dunning is None:
        return None
    today = local_day(datetime.fromisoformat(slot.replace("Z", "+00:00")), shop.time_zone)
    late = days_overdue(invoice, today, shop.time_zone)
    level = shop.dunning.due_level(late)
    if level is None or level.level <= invoice.dunning_level:
        return None
    stepped = invoice.model_copy(update={"dunning_level": level.level})
    dunning = level.context(days_overdue=late)
    return process_invoice(
        shop,
        stepped,
        event_id=event_id_for(shop.id, "dunning", f"{invoice_id}@{level.level}", b""),
        platform="dunning",
        received_at=datetime.fromisoformat(slot.replace("Z", "+00:00")),  # the scan's day: letters are dated by it
        events=["invoice.overdue"],
        extra={"dunning": dunning},
    )


def run_fanout(msg: dict[str, Any]) -> str:
    """The actions handler's part: a page of invoices to advance, or the scan's continuation."""

    if msg["fanout"] == "overdue_scan":
        scan(msg["shop_id"], msg["slot"], cursor=msg.get("cursor"))
        return "continued"
    shop = get_shop(msg["shop_id"])
    stepped = sum(1 for invoice_id in msg["invoice_ids"] if advance(shop, invoice_id, msg["slot"]) is not None)
    if msg.get("run_id"):
        _progress(
            shop.id, msg["run_id"], f"batch {msg['invoice_ids'][0]}", checked=len(msg["invoice_ids"]), stepped=stepped
        )
    return "done"
