"""Orders: the list (filtered, newest first, paged) and one order with its history, runs, messages and
documents. Wherever an order id is taken, ``number:1001`` (or ``number:1001@shopify``) is taken too."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import Router

from ...store import orders
from .. import records
from . import shop_of

router = Router()


@router.get(
    "/v1/shops/<shop>/orders",
    summary="The shop's orders, newest first (?number, ?customer, ?email, ?status, ?channel, ?since, ?until, "
    "?limit, ?next)",
)
def list_orders(shop: str) -> dict[str, Any]:
    q = router.current_event.query_string_parameters or {}
    return orders.list_orders(
        shop_of(router).id,
        number=q.get("number"),
        customer=q.get("customer"),
        email=q.get("email"),
        status=q.get("status"),
        channel=q.get("channel"),
        since=q.get("since"),
        until=q.get("until"),
        limit=q.get("limit"),
        token=q.get("next"),
    )


@router.get(
    "/v1/shops/<shop>/orders/<order_id>",
    summary="One order (its id, or number:1001[@channel]): as stored, its history, runs, messages and documents",
)
def get_order(shop: str, order_id: str) -> dict[str, Any]:
    return records.order_detail(shop_of(router).id, order_id)
