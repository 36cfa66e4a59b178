"""Invoices: the list (filtered, newest first, paged) and one invoice with its history, runs, messages and
documents. Wherever an invoice id is taken, ``number:R-2026-001`` is taken too."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import Router

from ...store import invoices
from ...store.orders import resolve_order_id
from .. import records
from . import shop_of

router = Router()


@router.get(
    "/v1/shops/<shop>/invoices",
    summary="The shop's invoices, newest first (?number, ?customer, ?status, ?order, ?since, ?until, ?limit, ?next)",
)
def list_invoices(shop: str) -> dict[str, Any]:
    q = router.current_event.query_string_parameters or {}
    shop_id = shop_of(router).id
    return invoices.list_invoices(
        shop_id,
        number=q.get("number"),
        customer=q.get("customer"),
        status=q.get("status"),
        order=resolve_order_id(shop_id, q["order"]) if q.get("order") else None,
        since=q.get("since"),
        until=q.get("until"),
        limit=q.get("limit"),
        token=q.get("next"),
    )


@router.get(
    "/v1/shops/<shop>/invoices/<invoice_id>",
    summary="One invoice (its id, or number:R-1): as stored, its history, runs, messages and documents",
)
def get_invoice(shop: str, invoice_id: str) -> dict[str, Any]:
    return records.invoice_detail(shop_of(router).id, invoice_id)
