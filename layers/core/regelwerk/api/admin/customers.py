"""Customers: list (filtered, paged), get with orders, update, erase (GDPR), CSV export and import."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router

from .. import customers as customers_admin
from . import shop_of

router = Router()


@router.get("/v1/shops/<shop>/customers", summary="The shop's customers, filtered by email, tag or country")
def list_customers(shop: str) -> dict[str, Any]:
    q = router.current_event.query_string_parameters or {}
    limit = q.get("limit", "50")
    return customers_admin.list_customers(
        shop_of(router).id,
        email=q.get("email"),
        tag=q.get("tag"),
        country=q.get("country"),
        limit=int(limit) if limit.isdigit() else 50,
        token=q.get("next"),
    )


@router.get("/v1/shops/<shop>/customers.csv", summary="Every customer as CSV")
def export_customers(shop: str):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py
    shop_id = shop_of(router).id
    return Response(
        200,
        "text/csv; charset=utf-8",
        customers_admin.export_csv(shop_id),
        headers={"Content-Disposition": f'attachment; filename="customers-{shop_id}.csv"'},
    )


@router.post("/v1/shops/<shop>/customers.csv", summary="Create or update customers from CSV, matched by e-mail")
def import_customers(shop: str) -> dict[str, Any]:
    event = router.current_event
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    return customers_admin.import_csv(shop_of(router).id, raw)


@router.get("/v1/shops/<shop>/customers/<customer_id>", summary="One customer with their orders")
def get_customer(shop: str, customer_id: str) -> dict[str, Any]:
    return customers_admin.get_customer(shop_of(router).id, customer_id)


@router.patch("/v1/shops/<shop>/customers/<customer_id>", summary="Change name, phone, language, tags or groups")
def update_customer(shop: str, customer_id: str, changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return customers_admin.update_customer(shop_of(router).id, customer_id, changes)


@router.delete("/v1/shops/<shop>/customers/<customer_id>", summary="Erase the customer's personal data (GDPR)")
def erase_customer(shop: str, customer_id: str) -> dict[str, Any]:
    return customers_admin.erase_customer(shop_of(router).id, customer_id)


@router.get(
    "/v1/shops/<shop>/customers/<customer_id>/export",
    summary="Everything held on the customer as JSON (GDPR art. 15); 404 once erased",
)
def export_customer(shop: str, customer_id: str) -> dict[str, Any]:
    return customers_admin.export_customer(shop_of(router).id, customer_id)
