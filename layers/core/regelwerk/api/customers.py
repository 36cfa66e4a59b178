"""The shop owner's customer area: list and filter, read with orders, update, erase (GDPR), CSV export and import.

Every function takes the shop id first and reads only under it. A customer's orders come from the
OrdersTable's ``by-customer`` index (a Query, never a Scan).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..clients import connection
from ..documents.csv import CUSTOMER_COLUMNS, LIST_SEPARATOR, customer_row, uncell, write_csv
from ..errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, Problem, pydantic_problems
from ..model.customer import Customer, customer_id_for_email, erase_order, erased_profile, normalise_email
from ..settings import settings
from ..store import paging, personal
from ..store.customers import customer_from_item, profile_document
from ..store.orders import order_of, order_summary
from ..store.runs import run_status
from ..store.shops import customer_id_key
from ..store.tables import CustomerItem, OrderItem

_LANGUAGE = r"^[a-z]{2}(-[A-Z]{2})?$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Label = Annotated[str, Field(min_length=1, max_length=64)]


class CustomerPatch(BaseModel):
    """What the shop owner may change on a customer (the aggregates come from orders only)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, pattern=_LANGUAGE)
    tags: list[Label] | None = Field(default=None, max_length=50)
    groups: list[Label] | None = Field(default=None, max_length=50)


def customer_key(shop_id: str, customer_id: str) -> str:
    """The by-customer index's key of a customer's orders."""
    return f"{shop_id}#{customer_id}"


def _out(item: CustomerItem) -> dict[str, Any]:
    return customer_from_item(item).model_dump(mode="json") | {"erased_at": item.erased_at}


def _get(shop_id: str, customer_id: str) -> CustomerItem:
    try:
        return CustomerItem.get(shop_id, customer_id, consistent_read=True)
    except CustomerItem.DoesNotExist as exc:
        raise NotFound(f"no customer {customer_id!r}") from exc


# ------------------------------------------------------------------ read


def list_customers(
    shop_id: str,
    *,
    email: str | None = None,
    tag: str | None = None,
    country: str | None = None,
    limit: int = 50,
    token: str | None = None,
) -> dict[str, Any]:
    """One page of the shop's customers, filtered; ``next`` is a signed token for the following page.

    Filters apply to the page read (as DynamoDB's own filters would), so a page may hold fewer than
    ``limit`` customers while ``next`` is still set.
    """
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country):
        raise InvalidInput("invalid filter", [Problem("$.country", "a two-letter ISO country code")])
    wanted_email = normalise_email(email) if email else None
    results = CustomerItem.query(
        shop_id, limit=max(1, min(limit, 200)), last_evaluated_key=paging.decode(shop_id, token)
    )
    customers = []
    for item in results:
        c = customer_from_item(item)
        if wanted_email and normalise_email(c.email or "") != wanted_email:
            continue
        if tag and tag not in c.tags:
            continue
        if country and (c.country or "").upper() != country.upper():
            continue
        customers.append(c.model_dump(mode="json") | {"erased_at": item.erased_at})
    return {"customers": customers, "next": paging.encode(shop_id, results.last_evaluated_key)}


def orders_of(shop_id: str, customer_id: str, limit: int | None = 100) -> list[OrderItem]:
    """The customer's orders, newest first (the by-customer index)."""
    return list(OrderItem.by_customer.query(customer_key(shop_id, customer_id), scan_index_forward=False, limit=limit))


def get_customer(shop_id: str, customer_id: str) -> dict[str, Any]:
    """One customer with their newest 100 orders."""
    item = _get(shop_id, customer_id)
    return _out(item) | {"orders": [order_summary(o) for o in orders_of(shop_id, customer_id)]}


# ------------------------------------------------------------------ write


def _save_profile(item: CustomerItem, customer: Customer) -> None:
    """Write a changed profile, only if nobody changed it since it was read (an order import, say)."""
    try:
        item.update(
            actions=[CustomerItem.document.set(profile_document(customer))],
            condition=CustomerItem.document == item.document,
        )
    except UpdateError as exc:
        raise Conflict("the customer changed meanwhile; read it again and retry") from exc


def update_customer(shop_id: str, customer_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a customer's name, phone, language, tags or groups; 422 names each bad field."""
    try:
        patch = CustomerPatch.model_validate(changes)
    except ValidationError as exc:
        raise InvalidInput("invalid customer", pydantic_problems(exc)) from exc
    item = _get(shop_id, customer_id)
    if item.erased_at:
        raise Conflict(f"customer {customer_id!r} was erased")
    customer = customer_from_item(item)
    updated = customer.model_copy(update={k: getattr(patch, k) for k in patch.model_fields_set})
    _save_profile(item, updated)
    return get_customer(shop_id, customer_id)


def _person(shop_id: str, item: CustomerItem, orders: list[OrderItem]) -> personal.Person:
    """Every value that names the customer, from their record and their orders, before any of it goes."""
    person = personal.Person(shop_id, item.customer_id)
    c = customer_from_item(item)
    person.add(c.email, c.phone, c.first_name, c.last_name, c.external_id)
    for o in orders:
        order = order_of(o)
        info = order.customer
        person.add(info.email, info.phone, info.first_name, info.last_name, info.id, order.note)
        for address in (order.billing_address, order.shipping_address):
            if address is not None:
                values = address.model_dump()
                person.add(*(values.get(k) for k in ("name", "company", "street", "phone", "address_line2")))
                if values.get("street") and values.get("house_number"):
                    person.add(f"{values['street']} {values['house_number']}")
    return person


def erase_customer(shop_id: str, customer_id: str) -> dict[str, Any]:
    """GDPR erasure: the customer's personal data goes from everywhere Regelwerk keeps it.

    The customer is marked erased first, so nothing planned for them goes out from then on (the send-time
    guard); then their runs, tasks, delayed actions, delivery records, parked contexts and PDFs, then their
    orders, and their profile last: an interrupted erasure is finished by calling it again. Invoices and
    credit notes stay, marked as retained for tax law. Order count, spend and order dates stay (they
    identify no one). The answer counts what was erased and what was retained, and says why.
    """
    item = _get(shop_id, customer_id)
    now = item.erased_at or datetime.now(UTC).isoformat()
    if not item.erased_at:
        item.update(actions=[CustomerItem.erased_at.set(now)], condition=CustomerItem.customer_id.exists())
    orders = orders_of(shop_id, customer_id, limit=None)
    person = _person(shop_id, item, orders)
    order_ids = [o.order_id for o in orders]
    invoices = personal.invoices_of(shop_id, customer_id, order_ids)
    keys = personal.order_keys(person, order_ids, [i.invoice_id for i in invoices])
    runs = personal.runs_of(shop_id, keys)
    run_ids = [r.run_id for r in runs]
    action_ids = [a for r in runs for a in personal.deliveries_of(r)]
    waiting = [a for r in runs for a, e in personal.deliveries_of(r).items() if e.get("state") == "delayed"]

    cancelled = personal.cancel_delayed(waiting)
    documents = personal.erase_documents(shop_id, personal.documents_of(shop_id, orders, runs), orders)
    contexts = personal.delete_contexts(shop_id, run_ids)
    tasks = sum(personal.erase_task(t) for t in personal.tasks_of(shop_id, customer_id))
    ledger = personal.erase_ledger([f"{p}#{a}" for a in action_ids for p in ("delayed", "delivery")], person)
    # the runs last but one: cancelling a delayed action writes its entry, which is then redacted too
    erased_runs = sum(personal.erase_run(r, person) for r in personal.runs_of(shop_id, keys))
    retained_invoices = [personal.retain_invoice(i) for i in invoices]
    erased_orders = _erase_orders(shop_id, customer_id)

    customer_item = _get(shop_id, customer_id)
    erased = erased_profile(customer_from_item(customer_item))
    customer_item.update(
        actions=[CustomerItem.document.set(profile_document(erased)), CustomerItem.erased_at.set(now)],
        condition=CustomerItem.customer_id.exists(),
    )
    retained: dict[str, Any] = {}
    if retained_invoices:
        retained["invoices"] = {
            "count": len(retained_invoices),
            "until": max(retained_invoices),
            "why": personal.RETENTION_WHY,
        }
    for kind, until in sorted(documents.retained.items()):
        retained[f"{kind}_documents"] = {"count": len(until), "until": max(until), "why": personal.RETENTION_WHY}
    return {
        "customer_id": customer_id,
        "erased_at": now,
        "orders_erased": erased_orders,
        "erased": {
            "customer": 1,
            "orders": erased_orders,
            "runs": erased_runs,
            "tasks": tasks,
            "delayed_actions_cancelled": cancelled,
            "delivery_records": ledger,
            "parked_contexts": contexts,
            "documents": documents.deleted,
        },
        "retained": retained,
    }


def _erase_orders(shop_id: str, customer_id: str) -> int:
    """Every order of the customer without their personal data (each write conditional on the version read)."""
    erased_orders = 0
    for item in orders_of(shop_id, customer_id, limit=None):
        for _attempt in range(5):
            order = order_of(item)
            clean = erase_order(order).model_dump_json()
            if clean == item.document:
                break
            try:
                item.update(actions=[OrderItem.document.set(clean)])  # conditional on the version it read
                erased_orders += 1
                break
            except UpdateError:
                item = OrderItem.get(shop_id, item.order_id, consistent_read=True)  # changed meanwhile
        else:
            raise Conflict("an order of this customer keeps changing; try the erasure again")
    return erased_orders


def export_customer(shop_id: str, customer_id: str) -> dict[str, Any]:
    """Everything Regelwerk holds on the customer, as JSON (GDPR art. 15): 404 once they were erased."""
    item = _get(shop_id, customer_id)
    if item.erased_at:
        raise NotFound(f"no customer {customer_id!r}")
    orders = orders_of(shop_id, customer_id, limit=None)
    order_ids = [o.order_id for o in orders]
    invoices = personal.invoices_of(shop_id, customer_id, order_ids)
    runs = personal.runs_of(
        shop_id, personal.order_keys(personal.Person(shop_id, customer_id), order_ids, [i.invoice_id for i in invoices])
    )
    pending = []
    for run in runs:
        for action_id, entry in personal.deliveries_of(run).items():
            if entry.get("state") == "delayed":
                pending.append(
                    {
                        "action_id": action_id,
                        "run_id": run.run_id,
                        "rule": entry.get("rule"),
                        "type": entry.get("type"),
                        "due": entry.get("until") or entry.get("due"),
                    }
                )
    documents = personal.documents_of(shop_id, orders, runs)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "customer": _out(item),
        "orders": [json.loads(o.document) | {"status": o.status} for o in orders],
        "invoices": [json.loads(i.document) | {"status": i.status} for i in invoices],
        "runs": [
            {
                "run_id": r.run_id,
                "received_at": r.received_at,
                "event_type": r.event_type,
                "order_id": r.order_id,
                "status": run_status(r.state, personal.deliveries_of(r)),
                "rules_fired": [x for x in (r.fired or "").split(",") if x],
            }
            for r in sorted(runs, key=lambda r: r.received_at)
        ],
        "tasks": [
            {"id": t.task_id, "state": t.state} | json.loads(t.document)
            for t in personal.tasks_of(shop_id, customer_id)
        ],
        "delayed_actions": pending,
        "documents": [{"key": k, "kind": personal.document_kind(k)} for k in sorted(documents)],
    }


# ------------------------------------------------------------------ CSV

_READ_ONLY = {"id", "order_count", "total_spent", "first_order_at", "last_order_at"}  # exported, ignored on import
MAX_IMPORT_ROWS = 5000


def export_csv(shop_id: str) -> str:
    """Every customer of the shop as CSV with a header; tags and groups joined with '|'."""
    return write_csv(CUSTOMER_COLUMNS, (customer_row(customer_from_item(item)) for item in CustomerItem.query(shop_id)))


class CsvRow(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: str = Field(max_length=254, pattern=_EMAIL)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, pattern=_LANGUAGE)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    tags: list[Label] | None = Field(default=None, max_length=50)
    groups: list[Label] | None = Field(default=None, max_length=50)


def _parse_rows(text: str) -> list[CsvRow]:
    """Every row checked before anything is written; 422 names each bad line and column."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems = []
    if "email" not in header:
        problems.append(Problem("line 1, column email", "required column is missing (customers are matched by it)"))
    for name in header:
        if name not in CUSTOMER_COLUMNS:
            problems.append(Problem(f"line 1, column {name or '(empty)'}", "unknown column"))
    if problems:
        raise InvalidInput("invalid CSV", problems)
    reader.fieldnames = header
    rows: list[CsvRow] = []
    seen: dict[str, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if len(rows) >= MAX_IMPORT_ROWS:
                raise PayloadTooLarge(f"more than {MAX_IMPORT_ROWS} rows; split the file")
            if None in raw:
                problems.append(Problem(f"line {line}", "more cells than the header has columns"))
                continue
            values: dict[str, Any] = {}
            for key, cell in raw.items():
                value = uncell((cell or "").strip())
                if key in _READ_ONLY or not value:
                    continue  # empty cell: leave the stored value as it is
                if key in ("tags", "groups"):
                    values[key] = [t.strip() for t in value.split(LIST_SEPARATOR) if t.strip()]
                else:
                    values[key] = value
            try:
                row = CsvRow.model_validate(values)
            except ValidationError as exc:
                for p in pydantic_problems(exc):
                    column = p.path.removeprefix("$.").split("[")[0]
                    problems.append(Problem(f"line {line}, column {column}", p.reason))
                continue
            key = normalise_email(row.email)
            if key in seen:
                problems.append(Problem(f"line {line}, column email", f"the same customer as line {seen[key]}"))
            seen[key] = line
            rows.append(row)
    except csv.Error as exc:
        raise InvalidInput("invalid CSV", [Problem(f"line {reader.line_num}", str(exc))]) from exc
    if problems:
        raise InvalidInput("invalid CSV: nothing was imported", problems)
    return rows


def import_csv(shop_id: str, raw: bytes) -> dict[str, Any]:
    """Create or update customers from CSV, matched by e-mail address (case-insensitive, trimmed).

    All rows are checked first: one bad row and nothing is written. An existing customer keeps
    what an empty cell leaves out; a new one gets the id an order with that e-mail would give it.
    """
    if len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {settings().max_body_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("invalid CSV", [Problem("line 1", "the file is not UTF-8 text")]) from exc
    rows = _parse_rows(text)
    by_email: dict[str, CustomerItem] = {}
    by_id: dict[str, CustomerItem] = {}
    for stored in CustomerItem.query(shop_id, consistent_read=True):
        by_id[stored.customer_id] = stored
        email = customer_from_item(stored).email
        if email:
            by_email.setdefault(normalise_email(email), stored)
    id_key = customer_id_key(shop_id)
    writes: list[Callable[[TransactWrite], None]] = []
    created = updated = 0
    for row in rows:
        fields = row.model_dump(exclude_none=True)
        keyed = customer_id_for_email(shop_id, row.email, id_key)
        item = (
            by_email.get(normalise_email(row.email))
            or by_id.get(keyed)
            or by_id.get(customer_id_for_email(shop_id, row.email))  # stored before the shop had its key
        )
        if item is None:
            customer = Customer(id=keyed, **fields)
            new = CustomerItem(shop_id, customer.id, document=profile_document(customer), spent_minor={})
            writes.append(lambda tx, new=new: tx.save(new, condition=CustomerItem.customer_id.does_not_exist()))  # type: ignore[misc]  # mypy cannot infer lambdas with default args
            created += 1
        else:
            customer = customer_from_item(item).model_copy(update=fields)
            actions = [CustomerItem.document.set(profile_document(customer))]
            if item.erased_at:
                actions.append(CustomerItem.erased_at.remove())  # imported again: the shop has the data anew
            writes.append(
                lambda tx, item=item, actions=actions: tx.update(  # type: ignore[misc]  # mypy cannot infer lambdas with default args
                    CustomerItem(shop_id, item.customer_id),
                    actions=actions,
                    condition=CustomerItem.document == item.document,
                )
            )
            updated += 1
    # TransactWriteItems takes 100 items: each chunk is all or nothing, and conditional on what was read
    for start in range(0, len(writes), 100):
        try:
            with TransactWrite(connection=connection()) as tx:
                for write in writes[start : start + 100]:
                    write(tx)
        except TransactWriteError as exc:
            raise Conflict(
                f"customers changed during the import; rows from {start + 1} on were not written, import again"
            ) from exc
    return {"created": created, "updated": updated}
