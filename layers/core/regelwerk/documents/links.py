"""Signed links to the customer portal: a signed, expiring link that opens one customer of one shop.

A link is ``<base>/v1/portal/<token>``; the token carries the shop id, the customer id and the
expiry, and an HMAC-SHA256 over exactly those, keyed with the deployment's portal secret. So a
link cannot be widened to another customer or shop, nor extended; a tampered or expired link is
refused without reading any data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import Forbidden, ServiceUnavailable
from ..settings import settings

_LOCAL_SECRET = "regelwerk-local-portal"
PATH = "/v1/portal/"


def _key() -> bytes:
    s = settings()
    if s.portal_secret:
        return s.portal_secret.encode()
    if s.stage == "local":
        return _LOCAL_SECRET.encode()
    # a deployed stack without its secret would sign links with a public key: refuse instead
    raise ServiceUnavailable("the customer portal is not configured (PORTAL_SECRET)")


def _mac(payload: bytes) -> str:
    return hmac.new(_key(), b"portal\x1f" + payload, hashlib.sha256).hexdigest()


def sign(shop_id: str, customer_id: str, expires_at: datetime) -> str:
    """A token for one customer of one shop, valid until ``expires_at``."""
    payload = json.dumps(
        {"s": shop_id, "c": customer_id, "e": int(expires_at.timestamp())}, separators=(",", ":"), sort_keys=True
    ).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _mac(payload)


def verify(token: str, now: datetime | None = None) -> tuple[str, str]:
    """(shop id, customer id) of a valid token; 403 for a malformed, tampered or expired one."""
    try:
        body, mac = token.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError) as exc:
        raise Forbidden("invalid portal link") from exc
    if len(token) > 1000 or not hmac.compare_digest(mac.encode(), _mac(payload).encode()):
        raise Forbidden("invalid portal link")
    claims = json.loads(payload)  # signed by us, so well-formed
    if (now or datetime.now(UTC)).timestamp() >= claims["e"]:
        raise Forbidden("this portal link has expired; ask the shop for a new one")
    return claims["s"], claims["c"]


def link(shop_id: str, customer_id: str, *, days: int | None = None) -> str:
    """The full portal URL for a customer, valid for ``days`` (the PORTAL_LINK_DAYS setting by default)."""
    s = settings()
    expires = datetime.now(UTC) + timedelta(days=days if days is not None else s.portal_link_days)
    return s.portal_url_base + PATH + sign(shop_id, customer_id, expires)


def url_for_context(shop_id: str, ctx: dict[str, Any]) -> str | None:
    """``portal_url`` for a template's context: the link of the context's customer, or None without one."""
    customer_id = (ctx.get("customer") or {}).get("id")
    return link(shop_id, customer_id) if customer_id else None


# ------------------------------------------------------------------ the page
