"""Customer records: read as one Customer, written as an atomic upsert inside the event's transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from ..model.customer import Customer, customer_id_for_email
from ..model.money import Money, minor_units
from ..model.order import Order
from .shops import customer_id_key
from .tables import CustomerItem, get_or_none

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


def _minor(amount: Decimal, currency: str) -> int:
    return int((amount * (Decimal(10) ** minor_units(currency))).to_integral_value())


def upsert_write(
    shop_id: str, customer: Customer, order: Order, *, exists: bool, new_order: bool, spend: Decimal | None = None
) -> Callable[[Any], None]:
    """The transaction item that records this order on its customer.

    A new customer is a conditional Put; an existing one an Update that adds the order to the
    aggregates (ADD / SET ... + :n), so concurrent orders of one customer all count, none retries.
    ``spend`` is what the event changes in the customer's spend (``model.customer.spend_change``:
    a new order's net total, a refund's minus); by default a new order's net total.
    """
    if spend is None:
        spend = order.net_total if new_order else Decimal(0)
    cents_change = _minor(spend, order.currency)
    profile = profile_document(customer)
    created = order.created_at.isoformat()
    if not exists:
        item = CustomerItem(
            shop_id,
            customer.id,
            document=profile,
            order_count=1 if new_order else 0,
            spent_minor={order.currency: cents_change} if new_order or cents_change else {},
            first_order_at=created if new_order else None,
            last_order_at=created if new_order else None,
        )
        return lambda tx: tx.save(item, condition=CustomerItem.customer_id.does_not_exist())
    actions: list[Action] = [CustomerItem.document.set(profile)]
    # PynamoDB types MapAttribute item access as the value; on the class it is a document Path
    cents = cast("Path", CustomerItem.spent_minor[order.currency])
    if new_order or cents_change:
        actions.append(cents.set((cents | 0) + cents_change))
    if new_order:
        actions += [
            CustomerItem.order_count.add(1),
            CustomerItem.first_order_at.set(CustomerItem.first_order_at | created),
            CustomerItem.last_order_at.set(created),
        ]
    return lambda tx: tx.update(
        CustomerItem(shop_id, customer.id), actions=actions, condition=CustomerItem.customer_id.exists()
    )


def customer_id_of_email(shop_id: str, email: str) -> str:
    """The id of the customer an order with only this e-mail address lands on: the shop's HMAC id, or the
    legacy id when a customer stored before the shop had its key is found under it (docs/privacy.md)."""
    key = customer_id_key(shop_id)
    keyed = customer_id_for_email(shop_id, email, key)
    if key is None:
        return keyed
    legacy = customer_id_for_email(shop_id, email)
    if get_or_none(CustomerItem, shop_id, keyed) is None and get_or_none(CustomerItem, shop_id, legacy) is not None:
        return legacy
    return keyed
