"""Orders as stored: the canonical order (``document``) beside the attributes the indexes read.

The order list reads one index, chosen by the filter that narrows most: ``number`` the by-number
index (a handful of orders), ``customer`` by-customer, else by-created (the shop's orders by date).
The other filters are applied to what that Query reads; ``since`` / ``until`` are key conditions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from ..errors import InvalidInput, NotFound, Problem
from ..model.order import Order
from ..model.values import Slug
from . import paging
from .lookup import (
    MAX_ID,
    AmbiguousNumber,
    backfill,
    id_filter,
    key_range,
    number_filter,
    number_key,
    number_ref,
    page_limit,
    utc_key,
    window,
)
from .tables import OrderItem, get_or_none

if TYPE_CHECKING:
    from pynamodb.pagination import ResultIterator

MAX_PER_NUMBER = 100  # orders sharing one number: one per channel in practice
_SLUG = TypeAdapter(Slug)  # the grammar of statuses and channels


def order_of(item: OrderItem) -> Order:
    """The canonical order an item holds (stored orders were validated when they came in)."""
    return Order.model_validate_json(item.document)


def load_order(shop_id: str, order_id: str) -> Order | None:
    """The stored order, read consistently, or None."""
    item = get_or_none(OrderItem, shop_id, order_id)
    return order_of(item) if item is not None else None


def index_order(item: OrderItem, order: Order) -> None:
    """Write the attributes the order indexes read: the time in UTC (keys sort as times), the number, the channel."""
    item.created_at = utc_key(order.created_at)
    item.number_key = number_key(item.shop_id, order.number)
    item.channel = order.channel


def orders_numbered(shop_id: str, number: str, channel: str | None = None) -> list[dict[str, str]]:
    """The ids and channels of the shop's orders with this number (newest first)."""
    found = OrderItem.by_number.query(number_key(shop_id, number), scan_index_forward=False, limit=MAX_PER_NUMBER)
    return [{"id": i.order_id, "channel": i.channel or ""} for i in found if channel in (None, i.channel)]


def resolve_order_id(shop_id: str, ref: str) -> str:
    """An order id, or the id of ``number:1001`` / ``number:1001@shopify``: 404 when no order has the
    number, 409 listing the matches when more than one has (two channels may both have an order 1001)."""
    wanted = number_ref(ref)
    if wanted is None:
        if len(ref) > MAX_ID:
            raise NotFound(f"no order {ref[:MAX_ID]!r}...")
        return ref
    matches = orders_numbered(shop_id, wanted.number, wanted.channel)
    if not matches:
        where = f" from {wanted.channel}" if wanted.channel else ""
        raise NotFound(f"no order with number {wanted.number!r}{where}")
    if len(matches) > 1:
        raise AmbiguousNumber("order", wanted.number, matches)
    return matches[0]["id"]


def get_order_item(shop_id: str, ref: str) -> OrderItem:
    """The stored order item of an id or ``number:...``; 404 when there is none."""
    order_id = resolve_order_id(shop_id, ref)
    item = get_or_none(OrderItem, shop_id, order_id)
    if item is None:
        raise NotFound(f"no order {ref!r}")
    return item


def order_summary(item: OrderItem) -> dict[str, Any]:
    """One row of an order list: what tells orders apart, money as {amount, currency}."""
    order = order_of(item)
    return {
        "id": order.id,
        "number": order.number,
        "channel": order.channel,
        "status": order.status,
        "created_at": order.created_at.isoformat(),
        "customer_id": item.customer_id,
        "email": order.customer.email,
        "total": order.total_money.quantized().as_dict(),
    }


def _slug_filter(name: str, value: str | None) -> str | None:
    """A status or channel filter, checked against the grammar they are stored in (shops name their own
    statuses, so a well-formed status nobody uses is an empty list, not an error)."""
    if value is None:
        return None
    try:
        return _SLUG.validate_python(value)
    except ValidationError as exc:
        reason = f"a {name} such as {'paid or on_hold' if name == 'status' else 'shopify'}: {exc.errors()[0]['msg']}"
        raise InvalidInput("invalid filter", [Problem(f"$.{name}", reason)]) from exc


def list_orders(
    shop_id: str,
    *,
    number: str | None = None,
    customer: str | None = None,
    email: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """The shop's orders, newest first, filtered; ``next`` is a signed token for the following page."""
    size = page_limit(limit)
    status, channel = _slug_filter("status", status), _slug_filter("channel", channel)
    number, customer = number_filter(number), id_filter("customer", customer)
    low, high = window(since, until)
    wanted_email = email.strip().lower() if email else None

    def keep(item: OrderItem) -> bool:
        order = order_of(item)
        return (
            (high is None or (item.created_at or "") < high)
            and (status is None or order.status == status)
            and (channel is None or order.channel == channel)
            and (customer is None or item.customer_id == customer)
            and (wanted_email is None or (order.customer.email or "").lower() == wanted_email)
        )

    if number:  # a handful of orders: read them by id, no paging
        ids = [m["id"] for m in orders_numbered(shop_id, number, channel)]
        items = sorted(OrderItem.batch_get([(shop_id, i) for i in ids]), key=lambda i: i.created_at or "", reverse=True)
        rows = [i for i in items if keep(i) and (low is None or (i.created_at or "") >= low)]
        return {"orders": [order_summary(i) for i in rows[:size]], "next": None}

    key_condition = key_range(OrderItem.created_at, low, high)
    if customer:
        index: Any = OrderItem.by_customer
        hash_key, scope = f"{shop_id}#{customer}", f"orders:by-customer:{customer}"
    else:
        index, hash_key, scope = OrderItem.by_created, shop_id, "orders:by-created"
    scope += f":{low}:{high}"  # a token starts where its own key range left off, never outside another's
    scope = paging.scope_of(scope, status=status, channel=channel, email=wanted_email)

    def query(start: dict[str, Any] | None, n: int) -> ResultIterator[OrderItem]:
        return index.query(hash_key, key_condition, scan_index_forward=False, limit=n, last_evaluated_key=start)

    rows, last = paging.read_page(OrderItem, query, keep, limit=size, start=paging.decode(shop_id, token, scope))
    return {"orders": [order_summary(i) for i in rows], "next": paging.encode(shop_id, last, scope)}


def reindex_orders(shop_id: str) -> int:
    """Write the index attributes on the shop's orders stored before the indexes existed (a one-off after
    the upgrade: a Query of the shop's partition, one UpdateItem per order that lacks them). Returns how many."""
    changed = 0
    for item in OrderItem.query(shop_id, page_size=200):
        want = OrderItem(shop_id, item.order_id)
        index_order(want, order_of(item))
        attrs = (OrderItem.created_at, OrderItem.number_key, OrderItem.channel)
        changed += backfill(OrderItem, shop_id, item.order_id, item, [(a, getattr(want, a.attr_name)) for a in attrs])
    return changed
