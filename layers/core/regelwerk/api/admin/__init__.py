"""The admin API: one Powertools Router per resource (shop, rules, templates, runs, tasks, customers, orders,
invoices), each route a few lines over a domain function. Every route needs an admin-scope key of the shop in
the path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import Router

if TYPE_CHECKING:
    from ...model.shop import Shop

# Routes that answer with a Response have no return annotation (# type: ignore[no-untyped-def]): the admin
# resolver validates answers, so Powertools would validate and serialize the body by that annotation, which
# changes the OpenAPI document and fails on binary bodies such as PDFs.


def shop_of(router: Router | APIGatewayRestResolver) -> Shop:
    """The authenticated shop, put into the context by the auth middleware."""
    return router.context["shop"]
