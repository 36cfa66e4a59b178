"""One order or invoice as the console and integrators read it: the record as stored, and what happened
to it, built from the run log (its events with their times, the runs, the messages and documents).

Nothing stores an order's status history apart from the run log, so its history is the run log's: each
run's trigger events and when they came in, oldest first.
"""

from __future__ import annotations

from typing import Any

from ..store.invoices import get_invoice_item, invoice_of
from ..store.orders import get_order_item, order_of
from ..store.runs import search_runs

MESSAGE_TYPES = ("email", "sms", "webhook")
DOCUMENT_TYPES = ("pdf",)
MAX_RUNS = 100  # one order's runs: a handful in practice; the run log pages beyond this (runs?order=)


def _runs_of(shop_id: str, order_id: str | None, invoice_id: str | None = None) -> list[dict[str, Any]]:
    """The newest runs of an order, or of one invoice (those of its order that were about it, or for an
    invoice without an order its own), read on the by-order index."""
    runs = search_runs(shop_id, order_id=order_id, invoice_id=invoice_id, limit=MAX_RUNS)["runs"]
    return [r for r in runs if invoice_id is None or r.get("invoice_id") == invoice_id]


def _timeline(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """History, runs, messages and documents of a record from its runs (newest first in, oldest first out)."""
    history, summaries, messages, documents = [], [], [], []
    for run in reversed(runs):
        events = [e["type"] for e in run.get("events", [])]
        history += [
            {"at": run["received_at"], "event": e, "run_id": run["run_id"]}
            for e in events
            if not e.startswith("article.")  # one per line item: the order's own event says it
        ]
        summaries.append(
            {
                "run_id": run["run_id"],
                "received_at": run["received_at"],
                "events": events,
                "rules_fired": sorted({r["rule"] for e in run.get("events", []) for r in e["rules"] if r["fired"]}),
                "status": run["status"],
                "invoice_id": run.get("invoice_id"),
            }
        )
        for action_id, entry in sorted(run.get("deliveries", {}).items(), key=lambda kv: kv[1].get("at") or ""):
            row = {"run_id": run["run_id"], "action_id": action_id} | entry
            if entry.get("type") in MESSAGE_TYPES:
                messages.append(row)
            elif entry.get("type") in DOCUMENT_TYPES:
                documents.append(row)
    return {"status_history": history, "runs": summaries, "messages": messages, "documents": documents}


def _stored_documents(keys: set[str] | None, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents noted on the order (``shops/<shop>/documents/<kind>/<digest>/<file>``) that no run lists."""
    seen = {(d.get("output") or {}).get("key") for d in listed}
    rows = []
    for key in sorted(keys or ()):
        if key not in seen:
            parts = key.split("/")
            rows.append({"key": key, "document": parts[3] if len(parts) > 5 else None, "filename": parts[-1]})
    return rows


def order_detail(shop_id: str, ref: str) -> dict[str, Any]:
    """One order (by id or ``number:1001[@channel]``): as stored, its history, runs, messages, documents
    and the invoices its runs name."""
    item = get_order_item(shop_id, ref)
    runs = _runs_of(shop_id, item.order_id)
    timeline = _timeline(runs)
    invoices = {r["invoice_id"]: r.get("invoice_number") for r in runs if r.get("invoice_id")}
    return {
        "order": order_of(item).model_dump(mode="json"),
        "customer_id": item.customer_id,
        **timeline,
        "documents": timeline["documents"] + _stored_documents(item.document_keys, timeline["documents"]),
        "invoices": [{"id": i, "number": n} for i, n in sorted(invoices.items())],
    }


def invoice_detail(shop_id: str, ref: str) -> dict[str, Any]:
    """One invoice (by id or ``number:R-1``): as stored, and its history, runs, messages and documents."""
    item = get_invoice_item(shop_id, ref)
    invoice = invoice_of(item)
    return {"invoice": invoice.model_dump(mode="json"), **_timeline(_runs_of(shop_id, invoice.order_id, invoice.id))}
