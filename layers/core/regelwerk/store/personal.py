"""Where one customer's personal data lives beyond their record and orders: found, shown (GDPR art. 15) and
erased (art. 17).

Everything is found from the customer's orders and invoices through the indexes that exist, never a Scan:
runs by the by-order index (``order_key``, an invoice without an order as ``invoice:<id>``), the actions of
those runs from their ``deliveries`` (each names its ``delayed#`` and ``delivery#`` items in the idempotency
table, its task and its PDF), parked contexts under ``contexts/<shop>/<run>/``. Tasks and invoices are read
with a Query of the shop's partition filtered on the customer's id.

Redaction keeps what identifies no one: a condition trace keeps its field and its decision and its
``actual`` value becomes ``[erased]``; the person's fields in any context (customer, addresses) become
``[erased]``; any other text that contains one of the person's values (e-mail, name, street, phone) does too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ..clients import client
from ..model.messages import dumps
from ..settings import settings
from . import delayed
from .contexts import PREFIX as CONTEXTS
from .tables import InvoiceItem, LedgerItem, OrderItem, RunItem, TaskItem

REDACTED = "[erased]"
RETAINED_KINDS = ("invoice", "credit_note")  # §147 AO, §14b UStG: kept ten years
RETENTION_YEARS = 10
RETENTION_WHY = "retained for tax law (§147 AO, §14b UStG; GDPR art. 17(3)(b))"
ERASED_REASON = "the customer was erased"

# the fields of a person inside a context: the customer, an order's buyer and its addresses, an invoice's buyer
_PERSON_KEYS = {
    "email",
    "phone",
    "first_name",
    "last_name",
    "name",
    "company",
    "street",
    "house_number",
    "address_line",
    "address_line2",
    "zip",
    "city",
    "external_id",
    "vat_id",
    "note",
    "customer_email",
    "customer_name",
    "billing_address",
}
_PERSON_PARTS = {"customer", "billing_address", "shipping_address", "address", "buyer"}
_MIN_VALUE = 3  # shorter values (an initial) would redact half the log and say nothing about anyone


@dataclass(slots=True)
class Person:
    """What identifies one customer in text: their values, as they stood before the erasure."""

    shop_id: str
    customer_id: str
    values: set[str] = field(default_factory=set)

    def add(self, *values: Any) -> None:
        for v in values:
            if isinstance(v, str) and len(v.strip()) >= _MIN_VALUE and v.strip() != "erased":
                self.values.add(v.strip().casefold())

    def mentioned_in(self, text: str) -> bool:
        folded = text.casefold()
        return any(v in folded for v in self.values)


def redact(value: Any, person: Person, *, personal: bool = False) -> Any:
    """``value`` without the person: their fields and any text naming them become ``[erased]``."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "actual":  # a condition trace: the field and the decision stay, the value goes
                out[k] = REDACTED if v is not None else None
            elif personal and k in _PERSON_KEYS and v is not None and not isinstance(v, dict | list):
                out[k] = REDACTED
            else:
                out[k] = redact(v, person, personal=personal or k in _PERSON_PARTS)
        return out
    if isinstance(value, list | tuple):
        return [redact(v, person, personal=personal) for v in value]
    if isinstance(value, str) and person.mentioned_in(value):
        return REDACTED
    return value


# ------------------------------------------------------------------ find


def order_keys(person: Person, order_ids: list[str], invoice_ids: list[str]) -> list[str]:
    """The by-order index's keys of the customer's orders and of their invoices without an order."""
    keys = [f"{person.shop_id}#{o}" for o in order_ids]
    return keys + [f"{person.shop_id}#invoice:{i}" for i in invoice_ids]


def runs_of(shop_id: str, keys: list[str]) -> list[RunItem]:
    """The customer's runs, whole, from the by-order index (a Query per order, then read by id)."""
    ids: list[str] = []
    for key in keys:
        ids += [i.run_id for i in RunItem.by_order.query(key) if i.run_id not in ids]
    return list(RunItem.batch_get([(shop_id, r) for r in ids])) if ids else []


def invoices_of(shop_id: str, customer_id: str, order_ids: list[str]) -> list[InvoiceItem]:
    """The customer's stored invoices: a Query of the shop's invoices filtered on the customer and their orders
    (the orders in groups, so each filter stays far below DynamoDB's 4 KB expression limit)."""
    found: dict[str, InvoiceItem] = {}
    groups = [order_ids[i : i + 40] for i in range(0, len(order_ids), 40)] or [[]]
    for group in groups:
        condition = InvoiceItem.document.contains(f'"customer_id":"{customer_id}"')
        for order_id in group:
            condition = condition | InvoiceItem.document.contains(f'"order_id":"{order_id}"')
        for item in InvoiceItem.query(shop_id, filter_condition=condition):
            found.setdefault(item.invoice_id, item)
    return list(found.values())


def tasks_of(shop_id: str, customer_id: str) -> list[TaskItem]:
    """The tasks made about the customer: a Query of the shop's tasks filtered on their id."""
    return list(TaskItem.query(shop_id, filter_condition=TaskItem.document.contains(f'"customer_id": "{customer_id}"')))


def deliveries_of(run: RunItem) -> dict[str, Any]:
    raw = run.deliveries.as_dict() if hasattr(run.deliveries, "as_dict") else dict(run.deliveries or {})
    return dict(raw)


def document_kind(key: str) -> str:
    """``shops/<shop>/documents/<kind>/...`` -> kind."""
    parts = key.split("/")
    return parts[3] if len(parts) > 4 and parts[2] == "documents" else "document"


def documents_of(shop_id: str, orders: list[OrderItem], runs: list[RunItem]) -> set[str]:
    """S3 keys of the PDFs made for the customer: noted on their orders and named in their runs."""
    keys: set[str] = set()
    for order in orders:
        keys |= set(order.document_keys or ())
    for run in runs:
        for entry in deliveries_of(run).values():
            key = entry.get("provider_id") if entry.get("type") == "pdf" else None
            if isinstance(key, str) and key.startswith(f"shops/{shop_id}/documents/"):
                keys.add(key)
    return keys


def retained_until(issued: date) -> date:
    """The end of the retention: ten years after the end of the calendar year of issue (§147 (4) AO)."""
    return date(issued.year + RETENTION_YEARS, 12, 31)


# ------------------------------------------------------------------ erase


def erase_run(run: RunItem, person: Person) -> bool:
    """The run's explanation, pending messages and delivery entries without the person."""
    doc = json.loads(run.document)
    clean_doc = dumps(redact(doc, person))
    deliveries = deliveries_of(run)
    clean_deliveries = redact(deliveries, person)
    if clean_doc == run.document and clean_deliveries == deliveries:
        return False
    run.update(
        actions=[RunItem.document.set(clean_doc), RunItem.deliveries.set(clean_deliveries)],
        condition=RunItem.run_id.exists(),
    )
    return True


def cancel_delayed(action_ids: list[str]) -> int:
    """Cancel the customer's waiting delayed actions: schedule deleted, marked so it never sends."""
    return sum(delayed.cancel_action(a, ERASED_REASON) for a in action_ids)


def erase_ledger(ids: list[str], person: Person) -> int:
    """``delayed#`` and ``delivery#`` items without the person (a delayed item's message and context)."""
    changed = 0
    for key in ids:
        try:
            item = LedgerItem.get(key, consistent_read=True)
        except LedgerItem.DoesNotExist:
            continue
        if not item.detail:
            continue
        try:
            detail = json.loads(item.detail)
        except ValueError:
            continue  # a lease (epoch seconds): nothing of anyone
        clean = dumps(redact(detail, person))
        if clean != item.detail:
            item.update(actions=[LedgerItem.detail.set(clean)])
            changed += 1
    return changed


def erase_task(task: TaskItem) -> bool:
    """A task about the customer keeps its state, due date, rule and order; its title and body go."""
    doc = json.loads(task.document)
    if doc.get("title") == REDACTED and doc.get("body") in (None, REDACTED):
        return False
    doc |= {"title": REDACTED, "body": REDACTED if doc.get("body") else None, "erased": True}
    task.update(
        actions=[TaskItem.document.set(json.dumps(doc)), TaskItem.updated_at.set(datetime.now(UTC).isoformat())]
    )
    return True


def delete_contexts(shop_id: str, run_ids: list[str]) -> int:
    """The parked contexts of the customer's runs (``contexts/<shop>/<run>/``), deleted."""
    bucket = settings().documents_bucket
    if not bucket:
        return 0
    s3 = client("s3")
    deleted = 0
    for run_id in run_ids:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{CONTEXTS}{shop_id}/{run_id}/")
        for page in pages:
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
                deleted += 1
    return deleted


@dataclass(slots=True)
class DocumentsDone:
    deleted: int = 0
    retained: dict[str, list[str]] = field(default_factory=dict)  # kind -> "key until date"


def erase_documents(shop_id: str, keys: set[str], orders: list[OrderItem]) -> DocumentsDone:
    """Delete the customer's PDFs but invoices and credit notes, which are tagged with their retention date."""
    done = DocumentsDone()
    bucket = settings().documents_bucket
    if not bucket or not keys:
        return done
    s3 = client("s3")
    gone: set[str] = set()
    for key in sorted(keys):
        kind = document_kind(key)
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError:
            gone.add(key)  # deleted before
            continue
        if kind in RETAINED_KINDS:
            until = retained_until(head["LastModified"].date()).isoformat()
            s3.put_object_tagging(
                Bucket=bucket,
                Key=key,
                Tagging={"TagSet": [{"Key": "retention", "Value": "tax-law"}, {"Key": "retain-until", "Value": until}]},
            )
            done.retained.setdefault(kind, []).append(until)
            continue
        s3.delete_object(Bucket=bucket, Key=key)
        gone.add(key)
        done.deleted += 1
    for order in orders:
        stale = set(order.document_keys or ()) & gone
        if stale:  # the portal and the order page no longer offer what is gone
            # the table connection: Model.update would make the write conditional on a version it never read
            OrderItem._get_connection().update_item(
                shop_id, order.order_id, actions=[OrderItem.document_keys.delete(stale), OrderItem.version.add(1)]
            )
    return done


def retain_invoice(item: InvoiceItem) -> str:
    """Mark a stored invoice as kept for tax law only: no reminder, export or portal shows it any more."""
    issued = datetime.fromisoformat(item.issued_at).date() if item.issued_at else datetime.now(UTC).date()
    until = retained_until(issued).isoformat()
    if item.retained_until != until:
        # out of the sparse open-by-due index as well: the daily overdue scan no longer finds it
        InvoiceItem._get_connection().update_item(
            item.shop_id,
            item.invoice_id,
            actions=[InvoiceItem.retained_until.set(until), InvoiceItem.open_shop.remove(), InvoiceItem.version.add(1)],
        )
    return until
