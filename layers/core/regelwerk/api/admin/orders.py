"""Orders: the list (filtered, newest first, paged) and one order with its history, runs, messages and
documents. Wherever an order id is taken, ``number:1001`` (or ``number:1001@shopify``) is taken too."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from ...store import orders
from .. import records
from . import shop_of

router = Router()

# the list's query parameters, declared so openapi.json describes them (values are checked by the store)
Text = str | None
Since = Annotated[Text, Query(description="from this ISO date (in UTC) or time with its zone")]
Until = Annotated[Text, Query(description="up to this ISO date (to its end) or time with its zone")]
Limit = Annotated[Text, Query(description="page size, 1 to 200 (50)")]
Next = Annotated[Text, Query(alias="next", description="the token of the previous page's next")]


@router.get("/v1/shops/<shop>/orders", summary="The shop's orders, newest first, filtered and paged")
def list_orders(
    shop: str,
    number: Annotated[Text, Query(description="the shop's own order number")] = None,
    customer: Annotated[Text, Query(description="a customer id")] = None,
    email: Annotated[Text, Query(description="the buyer's e-mail (any case)")] = None,
    status: Annotated[Text, Query(description="paid, shipped, on_hold or the shop's own status")] = None,
    channel: Annotated[Text, Query(description="shopify, woocommerce, ... (with number: which channel's)")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
    next_token: Next = None,
) -> dict[str, Any]:
    return orders.list_orders(
        shop_of(router).id,
        number=number,
        customer=customer,
        email=email,
        status=status,
        channel=channel,
        since=since,
        until=until,
        limit=limit,
        token=next_token,
    )


@router.get(
    "/v1/shops/<shop>/orders/<order_id>",
    summary="One order (its id, or number:1001[@channel]): as stored, its history, runs, messages and documents",
)
def get_order(shop: str, order_id: str) -> dict[str, Any]:
    return records.order_detail(shop_of(router).id, order_id)
