"""The run log: filtered, paged with signed tokens, and one run with its full explanation."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import Router

from ...store import runs
from . import shop_of

router = Router()


@router.get("/v1/shops/<shop>/runs", summary="The run log, newest first")
def list_runs(shop: str) -> dict[str, Any]:
    q = router.current_event.query_string_parameters or {}
    limit = q.get("limit", "50")
    return runs.search_runs(
        shop_of(router).id,
        event=q.get("event"),
        order_id=q.get("order"),
        customer_id=q.get("customer"),
        rule=q.get("rule"),
        status=q.get("status"),
        since=q.get("since"),
        until=q.get("until"),
        limit=int(limit) if limit.isdigit() else 50,
        token=q.get("next"),
    )


@router.get("/v1/shops/<shop>/runs/<run_id>", summary="One run: every rule, condition and action")
def get_run(shop: str, run_id: str) -> dict[str, Any]:
    return runs.get_run(shop_of(router).id, run_id)
