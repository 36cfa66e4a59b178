"""The run log: filtered, paged with signed tokens, and one run with its full explanation."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from ...errors import InvalidInput, Problem
from ...store import runs
from ...store.lookup import page_limit, window
from ...store.orders import resolve_order_id
from . import shop_of
from .orders import Limit, Next, Since, Text, Until

router = Router()
_BOOLEAN = {"true": True, "false": False}


@router.get("/v1/shops/<shop>/runs", summary="The run log, newest first, filtered and paged")
def list_runs(
    shop: str,
    order: Annotated[Text, Query(description="an order id or number:1001[@channel]: that order's runs")] = None,
    rule: Annotated[Text, Query(description="a rule id: the runs whose event it waits for, fired or not")] = None,
    fired: Annotated[Text, Query(description="true or false: whether the rule (or any rule) fired")] = None,
    event: Annotated[Text, Query(description="a trigger event, e.g. order.paid")] = None,
    customer: Annotated[Text, Query(description="a customer id")] = None,
    status: Annotated[Text, Query(description=", ".join(runs.STATUSES))] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
    next_token: Next = None,
) -> dict[str, Any]:
    shop_id = shop_of(router).id
    if fired is not None and fired not in _BOOLEAN:
        raise InvalidInput("invalid filter", [Problem("$.fired", "true or false")])
    since, until = window(since, until)  # UTC, as the run log's times are
    return runs.search_runs(
        shop_id,
        event=event,
        order_id=resolve_order_id(shop_id, order) if order else None,
        customer_id=customer,
        rule=rule,
        fired=_BOOLEAN.get(fired or ""),
        status=status,
        since=since,
        until=until,
        limit=page_limit(limit),
        token=next_token,
    )


@router.get("/v1/shops/<shop>/runs/<run_id>", summary="One run: every rule, condition and action")
def get_run(shop: str, run_id: str) -> dict[str, Any]:
    return runs.get_run(shop_of(router).id, run_id)
