"""Moving a shop's customers from the legacy unkeyed ids to HMAC ids (``regelwerk migrate-customer-ids``).

A legacy id is the SHA-256 of the shop id and what the customer is matched on, so anyone who knows an e-mail
address can compute it. For each customer whose id is the legacy id of their newest order (or, without
orders, of their e-mail address), the record moves to the shop's HMAC id, and everything naming the old id
follows: their orders (``customer_id``, the by-customer index's ``customer_key``), the runs of those orders,
their invoices and tasks, and their frequency-limit and marketing-cap claims. The new record is written
first and the old one deleted last, so a migration cut short is finished by running it again. Portal links
sent before name the old id and stop working. Run it while the shop is quiet: an order imported during a
customer's move may count on the old record.
"""

from __future__ import annotations

import json

from pynamodb.exceptions import PutError

from ..model.customer import customer_id_for, customer_id_for_email
from .orders import order_of
from .personal import invoices_of, runs_of, tasks_of
from .shops import ensure_customer_id_key, get_shop
from .tables import CustomerItem, InvoiceItem, LedgerItem, OrderItem, RuleItem, RunItem, TaskItem, get_or_none


def _legacy_and_keyed(shop_id: str, item: CustomerItem, matching: str, key: bytes) -> tuple[str, str] | None:
    """The customer's legacy id as its newest order (or its e-mail) derives it, and its HMAC id; None when the
    stored id is neither (matched earlier on other data: it cannot be derived again, so it stays)."""
    newest = next(iter(OrderItem.by_customer.query(f"{shop_id}#{item.customer_id}", scan_index_forward=False)), None)
    if newest is not None:
        order = order_of(newest)
        pair = customer_id_for(shop_id, order, matching), customer_id_for(shop_id, order, matching, key)
    else:
        email = json.loads(item.document).get("email")
        if not email:
            return None
        pair = customer_id_for_email(shop_id, email), customer_id_for_email(shop_id, email, key)
    return pair if pair[0] == item.customer_id else None


def _rewrite(document: str, old: str, new: str) -> str:
    return document.replace(f'"{old}"', f'"{new}"')


def migrate_customer_ids(shop_id: str) -> dict[str, int]:
    """Move the shop's legacy-id customers to HMAC ids; returns how many moved and how many stay as they are."""
    shop = get_shop(shop_id)
    key = ensure_customer_id_key(shop_id)
    rule_ids = [r.sk.removeprefix("rule#") for r in RuleItem.query(shop_id, RuleItem.sk.startswith("rule#"))]
    moved = kept = 0
    for item in list(CustomerItem.query(shop_id, consistent_read=True)):
        pair = _legacy_and_keyed(shop_id, item, shop.customer_matching, key)
        if pair is None:
            kept += 1  # already an HMAC id, or matched on other data
            continue
        old, new = pair
        _move(shop_id, item, old, new, rule_ids)
        moved += 1
    return {"moved": moved, "kept": kept}


def _move(shop_id: str, item: CustomerItem, old: str, new: str, rule_ids: list[str]) -> None:
    copy = CustomerItem(
        shop_id,
        new,
        document=_rewrite(item.document, old, new),
        order_count=item.order_count,
        spent_minor=item.spent_minor,
        first_order_at=item.first_order_at,
        last_order_at=item.last_order_at,
        erased_at=item.erased_at,
    )
    try:
        copy.save(condition=CustomerItem.customer_id.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise
        # written by a run cut short: go on with what follows
    orders = list(OrderItem.by_customer.query(f"{shop_id}#{old}"))
    order_ids = [o.order_id for o in orders]
    for order in orders:
        # the table connection: Model.update would make the write conditional on a version it never read
        OrderItem._get_connection().update_item(
            shop_id,
            order.order_id,
            actions=[
                OrderItem.customer_id.set(new),
                OrderItem.customer_key.set(f"{shop_id}#{new}"),
                OrderItem.version.add(1),
            ],
        )
    invoices = invoices_of(shop_id, old, order_ids)
    for invoice in invoices:
        if f'"{old}"' in invoice.document:
            InvoiceItem._get_connection().update_item(
                shop_id,
                invoice.invoice_id,
                actions=[InvoiceItem.document.set(_rewrite(invoice.document, old, new)), InvoiceItem.version.add(1)],
            )
    keys = [f"{shop_id}#{o}" for o in order_ids] + [f"{shop_id}#invoice:{i.invoice_id}" for i in invoices]
    for run in runs_of(shop_id, keys):
        if run.customer_id == old:
            run.update(
                actions=[RunItem.customer_id.set(new), RunItem.document.set(_rewrite(run.document, old, new))],
                condition=RunItem.run_id.exists(),
            )
    for task in tasks_of(shop_id, old):
        task.update(actions=[TaskItem.document.set(_rewrite(task.document, old, new))])
    # frequency-limit claims per rule and the shop-wide marketing cap: moved, so no limit starts again
    ledger = [(f"limit#{shop_id}#{r}#{old}", f"limit#{shop_id}#{r}#{new}") for r in rule_ids]
    for before, after in [*ledger, (f"cap#{shop_id}#{old}", f"cap#{shop_id}#{new}")]:
        claim = get_or_none(LedgerItem, before)
        if claim is not None:
            LedgerItem(
                after,
                status=claim.status,
                expiration=claim.expiration,
                detail=claim.detail,
                updated_at=claim.updated_at,
            ).save()
            claim.delete()
    CustomerItem(shop_id, old).delete()
