"""Shop adapters: a platform's own order webhook in, the canonical Order out.

``POST /v1/shops/{shop}/events/{platform}`` takes the body each platform really sends:

* ``regelwerk``: the canonical event. Ingest key (``Authorization: Bearer``); deduplicated on
  ``Idempotency-Key``, else ``event_id``.
* ``shopify``: signed ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256); deduplicated on
  ``X-Shopify-Webhook-Id``; topic ``X-Shopify-Topic``.
* ``woocommerce``: signed ``X-WC-Webhook-Signature`` (base64 HMAC-SHA256); deduplicated on
  topic plus body hash (woocommerce.py says why not the delivery id); topic ``X-WC-Webhook-Topic``.
* ``shopware``: signed ``shopware-shop-signature`` (hex HMAC-SHA256); deduplicated on
  ``X-Shopware-Event-Id`` / ``source.eventId``; topic ``data.event``.
* ``billbee``: ingest key; deduplicated on ``Idempotency-Key``, else the body's hash.

Each adapter module has ``authenticate(shop_id, headers, raw, now) -> Shop`` (401 / 404, and
nothing is read before it passed) and ``parse(shop, headers, raw) -> Delivery | Ping`` (422
naming the platform's fields). Headers come lower-cased. Adapters are imported on first use,
so a cold start loads only the one it needs.

The platform's original body travels with the event (``event.raw`` for conditions and
templates) but is not stored with the order.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from ...errors import NotFound
from ...store.shops import authenticate, load_shop
from . import signatures

if TYPE_CHECKING:
    from ...model.order import Order
    from ...model.shop import Shop

PLATFORMS = ("regelwerk", "shopify", "woocommerce", "shopware", "billbee")
_MODULES = {
    "regelwerk": "canonical",
    "shopify": "shopify",
    "woocommerce": "woocommerce",
    "shopware": "shopware",
    "billbee": "billbee",
}


@dataclass(frozen=True)
class Delivery:
    """One platform delivery read: the canonical order, what identifies the delivery, and the original body."""

    order: Order
    delivery_key: str | None
    topic: str | None = None
    raw: dict[str, Any] | None = None


@dataclass(frozen=True)
class Ping:
    """A platform's set-up request (WooCommerce pings a new webhook): answered 200, nothing written."""

    platform: str
    webhook_id: str

    @property
    def status_code(self) -> int:
        return 200

    def as_dict(self) -> dict[str, Any]:
        return {"ping": True, "platform": self.platform, "webhook_id": self.webhook_id}


@dataclass(frozen=True)
class Skipped:
    """A delivery with nothing to do (a refund of an order Regelwerk has not seen): answered 200 so
    that the platform does not retry it or disable the webhook; nothing is written."""

    platform: str
    reason: str

    @property
    def status_code(self) -> int:
        return 200

    def as_dict(self) -> dict[str, Any]:
        return {"ignored": self.reason, "platform": self.platform}


class Adapter(Protocol):
    def authenticate(self, shop_id: str, headers: dict[str, str], raw: bytes, now: datetime) -> Shop: ...

    def parse(self, shop: Shop, headers: dict[str, str], raw: bytes) -> Delivery | Ping | Skipped: ...


def adapter_for(platform: str) -> Adapter:
    """The adapter module of a platform; 404 naming the supported ones if there is none."""
    module = _MODULES.get(platform)
    if module is None:
        raise NotFound(f"unknown platform {platform!r}; supported: {', '.join(PLATFORMS)}")
    return cast(Adapter, importlib.import_module(f"{__name__}.{module}"))


def by_api_key(shop_id: str, headers: dict[str, str]) -> Shop:
    """The shop whose ingest key the request carries (``Authorization: Bearer``)."""

    return authenticate(shop_id, headers.get("authorization"), scope="ingest")


def by_signature(
    shop_id: str,
    platform: str,
    raw: bytes,
    headers: dict[str, str],
    *,
    header: str,
    encoding: Literal["base64", "hex"],
    now: datetime,
) -> Shop:
    """The shop, if ``header`` carries the HMAC-SHA256 of ``raw`` under its secret for ``platform``.

    The platforms cannot send Regelwerk's API key: the signature is the authentication.
    """

    shop = load_shop(shop_id)
    digest = signatures.decode_signature(headers.get(header.lower()), encoding, header)
    signatures.verify(shop, platform, raw, digest, header=header, now=now)
    return shop


def mapped_status(shop: Shop, platform: str, platform_status: str | None, default: str) -> str:
    """The shop's own mapping of a platform status (``platforms.<platform>.statuses``), else ``default``."""
    config = next((c for name, c in shop.platforms.items() if name == platform), None)
    if config is not None and platform_status is not None:
        return config.statuses.get(platform_status, default)
    return default


def slug(value: str) -> str | None:
    """A platform status as a status slug (``wc-awaiting-shipment`` -> ``awaiting-shipment``), if it makes one."""
    text = value.strip().lower().replace(" ", "_")
    text = "".join(c for c in text if c.isalnum() or c in "_.-")[:64]
    return text if text and text[0].isalnum() else None
