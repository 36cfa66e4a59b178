"""Admin authentication as a middleware: the shop in the path, an admin-scope key of that shop."""

from __future__ import annotations

import re
from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from ..store.shops import authenticate

_SHOP = re.compile(r"^/v1/shops/([^/:]+)")


def require_admin(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
    match = _SHOP.match(app.current_event.path)
    if match:
        headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
        app.append_context(shop=authenticate(match.group(1), headers.get("authorization"), scope="admin"))
    return next_middleware(app)
