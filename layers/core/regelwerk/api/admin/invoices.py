"""Invoices: the list (filtered, newest first, paged) and one invoice with its history, runs, messages and
documents. Wherever an invoice id is taken, ``number:R-2026-001`` is taken too."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from ...store import invoices
from ...store.orders import resolve_order_id
from .. import records
from . import shop_of
from .orders import Limit, Next, Since, Text, Until

router = Router()


@router.get("/v1/shops/<shop>/invoices", summary="The shop's invoices, newest first, filtered and paged")
def list_invoices(
    shop: str,
    number: Annotated[Text, Query(description="the shop's own invoice number")] = None,
    customer: Annotated[Text, Query(description="a customer id")] = None,
    status: Annotated[Text, Query(description=", ".join(invoices.STATUSES))] = None,
    order: Annotated[Text, Query(description="an order id or number:1001[@channel]")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
    next_token: Next = None,
) -> dict[str, Any]:
    shop_id = shop_of(router).id
    return invoices.list_invoices(
        shop_id,
        number=number,
        customer=customer,
        status=status,
        order=resolve_order_id(shop_id, order) if order else None,
        since=since,
        until=until,
        limit=limit,
        token=next_token,
    )


@router.get(
    "/v1/shops/<shop>/invoices/<invoice_id>",
    summary="One invoice (its id, or number:R-1): as stored, its history, runs, messages and documents",
)
def get_invoice(shop: str, invoice_id: str) -> dict[str, Any]:
    return records.invoice_detail(shop_of(router).id, invoice_id)
