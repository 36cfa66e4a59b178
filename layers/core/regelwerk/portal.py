"""The customer portal: a signed, expiring link that opens one customer of one shop, and the page behind it.

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

from jinja2 import Environment

from .errors import Forbidden, NotFound, ServiceUnavailable
from .settings import settings

_LOCAL_SECRET = "regelwerk-local-portal"
PATH = "/v1/portal/"
DOCUMENT_URL_SECONDS = 15 * 60  # a download link on the page is short-lived; the page can be reloaded


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

_ENV = Environment(autoescape=True)  # the portal's own page: every value is escaped, no shop template runs here
_PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="{{ language }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ shop_name }}: {{ t.title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}
td.num{text-align:right}.pay{font-weight:600}
</style></head><body>
<h1>{{ shop_name }}</h1>
<p>{{ t.hello }}{% if name %} {{ name }}{% endif %}.</p>
<h2>{{ t.title }}</h2>
{% if orders %}<table>
<tr><th>{{ t.number }}</th><th>{{ t.date }}</th><th class="num">{{ t.total }}</th><th>{{ t.status }}</th><th></th></tr>
{% for o in orders %}<tr>
<td>{{ o.number }}</td><td>{{ o.date }}</td><td class="num">{{ o.total }}</td><td>{{ o.status }}</td>
<td>{% for d in o.documents %}<a href="{{ d.url }}">{{ d.label }}</a><br>{% endfor %}
{% if o.payment_url %}<a class="pay" href="{{ o.payment_url }}">{{ t.pay }}</a>{% endif %}</td>
</tr>{% endfor %}
</table>{% else %}<p>{{ t.none }}</p>{% endif %}
</body></html>
"""
)
_TEXT = {
    "de": {
        "title": "Ihre Bestellungen",
        "hello": "Hallo",
        "number": "Bestellung",
        "date": "Datum",
        "total": "Summe",
        "status": "Status",
        "pay": "Jetzt bezahlen",
        "none": "Noch keine Bestellungen.",
    },
    "en": {
        "title": "Your orders",
        "hello": "Hello",
        "number": "Order",
        "date": "Date",
        "total": "Total",
        "status": "Status",
        "pay": "Pay now",
        "none": "No orders yet.",
    },
}
_PAID = {"paid", "shipped", "completed", "cancelled", "refunded"}


def page(token: str) -> str:
    """The portal page for a token: that customer's orders (newest first), PDF downloads and pay links."""
    import boto3

    from .order import Order
    from .store.customers import customer_from_item
    from .store.shops import get_shop
    from .store.tables import CustomerItem, OrderItem

    shop_id, customer_id = verify(token)
    shop = get_shop(shop_id)
    try:
        item = CustomerItem.get(shop_id, customer_id)
    except CustomerItem.DoesNotExist as exc:
        raise NotFound("no such customer") from exc
    if item.erased_at:
        raise NotFound("no such customer")  # erased: the link opens nothing any more
    customer = customer_from_item(item)
    language = (customer.language or shop.language or "en")[:2]
    t = _TEXT.get(language, _TEXT["en"])
    bucket = settings().documents_bucket
    s3 = boto3.client("s3", region_name=settings().aws_region) if bucket else None
    orders = []
    for o in OrderItem.by_customer.query(f"{shop_id}#{customer_id}", scan_index_forward=False, limit=100):
        order = Order.model_validate_json(o.document)
        documents = []
        for key in sorted(o.document_keys or ()):
            # only this shop's documents, whatever the item says
            if s3 is None or not key.startswith(f"shops/{shop_id}/documents/"):
                continue
            url = s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=DOCUMENT_URL_SECONDS
            )
            documents.append({"url": url, "label": key.rsplit("/", 1)[-1].removesuffix(".pdf").replace("_", " ")})
        open_for_payment = order.status not in _PAID and order.paid_at is None
        orders.append(
            {
                "number": order.number,
                "date": order.created_at.date().isoformat(),
                "total": f"{order.total_money.quantized().amount} {order.currency}",
                "status": order.status,
                "documents": documents,
                "payment_url": order.payment_url if open_for_payment else None,
            }
        )
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    return _PAGE.render(shop_name=shop.name, name=name, orders=orders, t=t, language=language)
