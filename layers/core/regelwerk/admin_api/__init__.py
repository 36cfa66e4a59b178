"""The admin API: one Powertools Router per resource (shop, rules, templates, runs), each route a few lines
over a domain function. Every route needs an admin-scope key of the shop in the path."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import Router


def shop_of(router: Router | APIGatewayRestResolver):
    """The authenticated shop, put into the context by the auth middleware."""
    return router.context["shop"]
