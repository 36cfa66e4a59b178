"""Admin authentication: the shop in the path, an admin-scope key of that shop, or a person's Cognito access
token with a role in that shop (a viewer may read, not change).

The admin function checks it before the request is routed (``admin_shop``), so a caller without
the shop's key learns nothing, not even what a route's body should look like (Powertools validates
bodies before any middleware runs). The middleware keeps the shop for the routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from ...errors import NotFound
from ...model.shop import Shop
from ...store.people import require_role
from ...store.shops import authenticate, load_shop
from ..identity import looks_like_access_token, person_of

_IN_A_SHOP = re.compile(r"^/v1/shops(?:/|$)")
_SHOP = re.compile(r"^/v1/shops/([a-z0-9][a-z0-9_.-]{0,63})(?:/|$)")  # the shop id's grammar (model.values.Slug)


def admin_shop(event: dict[str, Any]) -> Shop | None:
    """The shop of a ``/v1/shops/{shop}/...`` request if its key is an admin key of that shop; raises
    Unauthorized / Forbidden / NotFound otherwise; None for the routes outside a shop (openapi.json).

    Every path under ``/v1/shops`` is checked here, before routing: one whose shop segment is no shop id
    (``:demo``, an empty or encoded segment) is 404 and never reaches a route."""
    path = event.get("path") or ""
    if not _IN_A_SHOP.match(path):
        return None
    match = _SHOP.match(path)
    if not match:
        raise NotFound("no such route")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    authorization = headers.get("authorization") or ""
    token = authorization.removeprefix("Bearer ").strip()
    if authorization.startswith("Bearer ") and looks_like_access_token(token):  # a person, not a key
        sub, _email = person_of(token)
        change = (event.get("httpMethod") or "GET").upper() not in ("GET", "HEAD", "OPTIONS")
        require_role(match.group(1), sub, change)  # a viewer: 403 on every change
        return load_shop(match.group(1))
    return authenticate(match.group(1), authorization or None, scope="admin")


def require_admin(app: APIGatewayRestResolver, next_middleware: Callable[..., Response]) -> Response:
    if "shop" not in app.context:  # checked already when the function received the request
        shop = admin_shop(app.current_event.raw_event)
        if shop is not None:
            app.append_context(shop=shop)
    return next_middleware(app)
