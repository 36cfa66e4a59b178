"""The run log: filtered, paged with signed tokens, and one run with its full explanation."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import Router

from ...errors import InvalidInput, Problem
from ...store import runs
from ...store.lookup import page_limit
from ...store.orders import resolve_order_id
from . import shop_of

router = Router()
_BOOLEAN = {"true": True, "false": False}


@router.get(
    "/v1/shops/<shop>/runs",
    summary="The run log, newest first (?order: an id or number:1001, ?rule: runs that evaluated it, ?fired, "
    "?event, ?customer, ?status, ?since, ?until, ?limit, ?next)",
)
def list_runs(shop: str) -> dict[str, Any]:
    q = router.current_event.query_string_parameters or {}
    shop_id = shop_of(router).id
    fired = q.get("fired")
    if fired is not None and fired not in _BOOLEAN:
        raise InvalidInput("invalid filter", [Problem("$.fired", "true or false")])
    return runs.search_runs(
        shop_id,
        event=q.get("event"),
        order_id=resolve_order_id(shop_id, q["order"]) if q.get("order") else None,
        customer_id=q.get("customer"),
        rule=q.get("rule"),
        fired=_BOOLEAN.get(fired or ""),
        status=q.get("status"),
        since=q.get("since"),
        until=q.get("until"),
        limit=page_limit(q.get("limit")),
        token=q.get("next"),
    )


@router.get("/v1/shops/<shop>/runs/<run_id>", summary="One run: every rule, condition and action")
def get_run(shop: str, run_id: str) -> dict[str, Any]:
    return runs.get_run(shop_of(router).id, run_id)
