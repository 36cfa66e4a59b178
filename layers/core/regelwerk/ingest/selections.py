"""Rules over a selection: a scheduled rule with ``over:`` and manual runs, fanned out through SQS.

A scheduled rule may act on a selection (``over: orders | invoices | customers`` with an optional
``window: last_month``), its conditions being the filter; Billbee's manual trigger runs a rule on
given ids or a selection (``POST /v1/shops/{shop}/rules/{id}/run``). Both go the same way:

1. **start**: a parent run in the run log, then either the given ids or a scan message on the
   actions queue;
2. **scan** (actions handler): Query the shop's partition page by page (never a Scan), send the ids
   on, 100 per message, and after ``MAX_PAGES`` pages put its own continuation on the queue, so
   no invocation grows with the table;
3. **items** (actions handler): each item is read, checked against the window, and the rule is
   evaluated on it; an item for which it fires gets a run of its own (its id made from the parent
   run and the item, so a redelivered page changes nothing), and the page's counts go to the
   parent run's entry.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..delivery import queue
from ..engine.context import invoice_context, rule_context
from ..engine.evaluate import evaluate
from ..engine.windows import window_bounds, within
from ..model.customer import Customer
from ..store.customers import customer_from_item
from ..store.invoices import invoice_of
from ..store.orders import order_of
from ..store.rules import load_rules
from ..store.runs import note_progress, open_job_run
from ..store.shops import get_shop
from ..store.tables import CustomerItem, InvoiceItem, OrderItem, RunItem, get_or_none
from .run_writer import commit_run, event_id_for, resume

if TYPE_CHECKING:
    from ..engine.rule import CompiledRule
    from ..model.shop import Shop

PAGE_SIZE = 500
IDS_PER_MESSAGE = 100
MAX_PAGES = 10  # per invocation (5,000 ids): then the scan continues in a new one
_SLACK = timedelta(days=1)  # stored times keep their own offsets: the DynamoDB filter is a day wider

_TABLES = {
    "orders": (OrderItem, "order_id", "created_at"),
    "invoices": (InvoiceItem, "invoice_id", None),
    "customers": (CustomerItem, "customer_id", "first_order_at"),
}


def start(
    shop_id: str,
    rule_id: str,
    *,
    of: str,
    window: str | None,
    ids: list[str] | None,
    event_type: str,
    run_id: str,
    now: datetime,
    slot: str | None = None,
) -> dict[str, Any]:
    """Write the parent run and queue the work. Returns what the API answers."""

    _parent_run(shop_id, run_id, rule_id, of, window, ids, event_type, now, slot)
    base = {"shop_id": shop_id, "rule_id": rule_id, "run_id": run_id, "of": of, "window": window}
    base |= {"event_type": event_type, "now": now.isoformat(), "slot": slot}
    if ids is not None:
        queue.send(
            [
                ("actions", base | {"fanout": "selection", "ids": ids[i : i + IDS_PER_MESSAGE]})
                for i in range(0, len(ids), IDS_PER_MESSAGE)
            ]
        )
        return {"run_id": run_id, "queued": len(ids)}
    queue.send([("actions", base | {"fanout": "selection_scan", "cursor": None})])
    return {"run_id": run_id, "queued": "selection"}


def _parent_run(
    shop_id: str,
    run_id: str,
    rule_id: str,
    of: str,
    window: str | None,
    ids: list[str] | None,
    event_type: str,
    now: datetime,
    slot: str | None,
) -> None:

    doc: dict[str, Any] = {
        "platform": event_type,
        "rule_id": rule_id,
        "slot": slot,
        "selection": {"over": of, "window": window, "ids": len(ids) if ids is not None else None},
        "note": f"{event_type} run of rule {rule_id} over {of}"
        + (f" ({window})" if window else "")
        + (f": {len(ids)} given id(s)" if ids is not None else ""),
        "events": [],
    }
    open_job_run(shop_id, run_id, now, event_type, doc, fired=f",{rule_id},")


def _bounds(msg: dict[str, Any], time_zone: str) -> tuple[datetime | None, datetime | None]:
    if not msg.get("window"):
        return None, None

    return window_bounds(msg["window"], datetime.fromisoformat(msg["now"]), time_zone)


def scan(msg: dict[str, Any]) -> str:
    """One invocation's share of a selection: up to MAX_PAGES pages of ids, then a continuation."""

    shop = get_shop(msg["shop_id"])
    model, key, when = _TABLES[msg["of"]]
    start_, end = _bounds(msg, shop.time_zone)
    condition = None
    if when and (start_ or end):
        attr = getattr(model, when)
        lo = (start_.astimezone(UTC) - _SLACK).isoformat() if start_ else "0000"
        hi = (end.astimezone(UTC) + _SLACK).isoformat() if end else "9999"
        condition = attr.between(lo, hi)
    cursor = msg.get("cursor")
    pages = found = 0
    base = {k: v for k, v in msg.items() if k not in ("fanout", "cursor")}
    while pages < MAX_PAGES:
        result = model.query(
            shop.id,
            filter_condition=condition,
            attributes_to_get=[key],
            page_size=PAGE_SIZE,
            limit=PAGE_SIZE,
            last_evaluated_key=cursor,
        )
        ids = [getattr(item, key) for item in result]
        cursor = result.last_evaluated_key
        pages += 1
        found += len(ids)
        queue.send(
            [
                ("actions", base | {"fanout": "selection", "ids": ids[i : i + IDS_PER_MESSAGE]})
                for i in range(0, len(ids), IDS_PER_MESSAGE)
            ]
        )
        if not cursor:
            break
    if cursor:
        queue.send([("actions", base | {"fanout": "selection_scan", "cursor": cursor})])
    progress(
        shop.id,
        msg["run_id"],
        f"scan {hashlib.sha256(json.dumps(msg.get('cursor')).encode()).hexdigest()[:8]}",
        type="selection_scan",
        selected=found,
        more=bool(cursor),
    )
    return "scanned"


def run_items(msg: dict[str, Any]) -> str:
    """Evaluate the rule on each item of one message; a run for each item it fires on."""

    shop = get_shop(msg["shop_id"])
    compiled = next((c for c in load_rules(shop.id) if c.rule.id == msg["rule_id"]), None)
    if compiled is None:
        progress(
            shop.id,
            msg["run_id"],
            f"items {msg['ids'][0]}",
            type="selection",
            state="skipped",
            reason="the rule no longer exists",
        )
        return "skipped"
    bounds = _bounds(msg, shop.time_zone)
    fired = checked = 0
    for item_id in msg["ids"]:
        result = run_item(shop, compiled, msg, item_id, bounds)
        checked += result is not None
        fired += bool(result and result.fired)
    progress(
        shop.id,
        msg["run_id"],
        f"items {msg['ids'][0]}",
        type="selection",
        checked=len(msg["ids"]),
        in_window=checked,
        fired=fired,
    )
    return "done"


def run_item(
    shop: Shop,
    compiled: CompiledRule,
    msg: dict[str, Any],
    item_id: str,
    bounds: tuple[datetime | None, datetime | None],
) -> Any:
    """The rule on one order, invoice or customer; None when the item is gone or outside the window."""

    of = msg["of"]
    order = customer = invoice = None
    when: datetime | None
    if of == "orders":
        order_item = get_or_none(OrderItem, shop.id, item_id)
        if order_item is None:
            return None
        order = order_of(order_item)
        when = order.created_at
        found = get_or_none(CustomerItem, shop.id, order_item.customer_id)
        customer = customer_from_item(found) if found else None
    elif of == "invoices":
        invoice_item = get_or_none(InvoiceItem, shop.id, item_id)
        if invoice_item is None:
            return None
        invoice = invoice_of(invoice_item)
        when = invoice.issued_at
    else:
        customer_item = get_or_none(CustomerItem, shop.id, item_id)
        if customer_item is None:
            return None
        customer = customer_from_item(customer_item)
        when = customer.first_order_at
    if not within(when, *bounds):
        return None
    run_id = event_id_for(shop.id, msg["event_type"], f"{msg['run_id']}/{of}/{item_id}", b"")
    existing = get_or_none(RunItem, shop.id, run_id)
    if existing is not None:
        return resume(existing, run_id)
    ctx = rule_context(
        shop,
        order=order,
        customer=customer if isinstance(customer, Customer) else None,
        invoice=invoice_context(invoice) if invoice else None,
    ) | {
        "event": {
            "id": run_id,
            "type": msg["event_type"],
            "received_at": msg["now"],
            "platform": msg["event_type"],
            "schedule_slot": msg.get("slot"),
            "parent_run": msg["run_id"],
        }
    }
    outcomes = evaluate([compiled], msg["event_type"], ctx, run_id, any_trigger=True)
    if not outcomes[0].fired:
        return outcomes[0]
    subject = {"rule_id": compiled.rule.id, "parent_run": msg["run_id"], f"{of[:-1]}_id": item_id}
    if order:
        subject |= {"order_id": order.id, "order_number": order.number}
    commit_run(
        shop,
        run_id=run_id,
        platform=msg["event_type"],
        received_at=datetime.fromisoformat(msg["now"]),
        results=[(msg["event_type"], ctx, outcomes)],
        rules=[compiled],
        customer_id=customer.id if customer else (invoice.customer_id if invoice else None),
        subject=subject,
        writes=[],
        note=None,
        suppressed={},
    )
    return outcomes[0]


def progress(shop_id: str, run_id: str, label: str, **entry: Any) -> None:
    """One entry in the parent run: what a page of the selection did."""

    note_progress(shop_id, run_id, f"{run_id}:{label}", {"event": "selection"} | entry)
