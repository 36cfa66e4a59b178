"""The customer portal page behind a signed link (``documents.links`` makes and checks the links).

The page lists the customer's orders and the documents made for them, with short-lived download links.
"""

from __future__ import annotations

from jinja2 import Environment

from ..clients import client
from ..documents.links import verify
from ..errors import NotFound
from ..settings import settings

DOCUMENT_URL_SECONDS = 15 * 60  # a download link on the page is short-lived; the page can be reloaded


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
    shop_id, customer_id = verify(token)
    # the data layer (PynamoDB, the pydantic models) loads only behind a valid link: a tampered or
    # expired one is refused from a cold start without it
    from ..store.customers import customer_from_item
    from ..store.orders import order_of
    from ..store.shops import get_shop
    from ..store.tables import CustomerItem, OrderItem

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
    s3 = client("s3") if bucket else None
    orders = []
    for o in OrderItem.by_customer.query(f"{shop_id}#{customer_id}", scan_index_forward=False, limit=100):
        order = order_of(o)
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
