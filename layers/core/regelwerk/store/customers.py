"""Customer records: read as one Customer, written as an atomic upsert inside the event's transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from ..model.customer import Customer
from ..model.money import Money, minor_units
from ..model.order import Order
from .tables import CustomerItem

if TYPE_CHECKING:
    from pynamodb.expressions.operand import Path
    from pynamodb.expressions.update import Action

_AGGREGATES = {"order_count", "total_spent", "first_order_at", "last_order_at"}


def customer_from_item(item: CustomerItem) -> Customer:
    spent = item.spent_minor.as_dict() if hasattr(item.spent_minor, "as_dict") else dict(item.spent_minor or {})
    totals = {cur: str(Money.from_minor(int(v), cur).quantized().amount) for cur, v in sorted(spent.items())}
    return Customer.model_validate(
        json.loads(item.document)
        | {
            "order_count": int(item.order_count or 0),
            "total_spent": totals,
            "first_order_at": item.first_order_at,
            "last_order_at": item.last_order_at,
        }
    )


def profile_document(customer: Customer) -> str:
    """The customer's profile as stored in ``document``: everything but the aggregates (kept as attributes)."""
    return customer.model_dump_json(exclude=_AGGREGATES)


def _minor(order: Order) -> int:
    return int((order.total * (Decimal(10) ** minor_units(order.currency))).to_integral_value())


def upsert_write(
    shop_id: str, customer: Customer, order: Order, *, exists: bool, new_order: bool
) -> Callable[[Any], None]:
    """The transaction item that records this order on its customer.

    A new customer is a conditional Put; an existing one an Update that adds the order to the
    aggregates (ADD / SET ... + :n), so concurrent orders of one customer all count, none retries.
    """
    profile = profile_document(customer)
    created = order.created_at.isoformat()
    if not exists:
        item = CustomerItem(
            shop_id,
            customer.id,
            document=profile,
            order_count=1 if new_order else 0,
            spent_minor={order.currency: _minor(order)} if new_order else {},
            first_order_at=created if new_order else None,
            last_order_at=created if new_order else None,
        )
        return lambda tx: tx.save(item, condition=CustomerItem.customer_id.does_not_exist())
    actions: list[Action] = [CustomerItem.document.set(profile)]
    if new_order:
        # PynamoDB types MapAttribute item access as the value; on the class it is a document Path
        cents = cast("Path", CustomerItem.spent_minor[order.currency])
        actions += [
            CustomerItem.order_count.add(1),
            cents.set((cents | 0) + _minor(order)),
            CustomerItem.first_order_at.set(CustomerItem.first_order_at | created),
            CustomerItem.last_order_at.set(created),
        ]
    return lambda tx: tx.update(
        CustomerItem(shop_id, customer.id), actions=actions, condition=CustomerItem.customer_id.exists()
    )
