"""Shops and their API keys. Keys are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime

from ..errors import Forbidden, NotFound, Unauthorized
from ..model.shop import Shop
from .schedules import sync_shop_schedules
from .tables import ShopItem

KEY_PREFIX = "rw_"
SCOPES = ("ingest", "admin")
_CACHE_SECONDS = 60
_cache: dict[tuple[str, str], tuple[float, Shop, str]] = {}
_profiles: dict[str, tuple[float, Shop]] = {}


def hash_key(key: str) -> str:
    # API keys are 256-bit random tokens, so a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def save_shop(shop: Shop) -> None:
    """Store the shop's settings and keep its daily overdue scan (dunning) scheduled accordingly."""

    ShopItem(shop.id, "profile", document=shop.model_dump_json()).save()
    _profiles.pop(shop.id, None)
    sync_shop_schedules(shop)


def get_shop(shop_id: str) -> Shop:
    try:
        item = ShopItem.get(shop_id, "profile")
    except ShopItem.DoesNotExist as exc:
        raise NotFound(f"unknown shop {shop_id!r}") from exc
    return Shop.model_validate_json(item.document)


def load_shop(shop_id: str) -> Shop:
    """The shop profile, cached for a minute in a warm container (signed webhooks read it on every call)."""
    now = time.monotonic()
    cached = _profiles.get(shop_id)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    shop = get_shop(shop_id)
    _profiles[shop_id] = (now, shop)
    return shop


def create_key(shop_id: str, scope: str, label: str | None = None) -> str:
    """Create an API key for a shop and return it; only its hash is stored, so it is shown once."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    get_shop(shop_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    ShopItem(shop_id, f"key#{hash_key(key)}", scope=scope, label=label, created_at=datetime.now(UTC).isoformat()).save()
    return key


def authenticate(shop_id: str, authorization: str | None, scope: str) -> Shop:
    """The shop, if ``authorization`` carries a key of this shop with the scope; else 401/403/404.

    The key is looked up under the shop of the URL, so a key of shop A can never open shop B.
    Both items come from one BatchGetItem and are cached for a minute in a warm container.
    """
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    key = authorization[len("Bearer ") :].strip()
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        raise Unauthorized("invalid API key")
    digest = hash_key(key)
    cached = _cache.get((shop_id, digest))
    now = time.monotonic()
    if cached and now - cached[0] < _CACHE_SECONDS:
        shop, key_scope = cached[1], cached[2]
    else:
        items = {i.sk: i for i in ShopItem.batch_get([(shop_id, "profile"), (shop_id, f"key#{digest}")])}
        if "profile" not in items:
            raise NotFound(f"unknown shop {shop_id!r}")
        key_item = items.get(f"key#{digest}")
        # compare_digest keeps the check constant-time even though the lookup already matched
        if key_item is None or not hmac.compare_digest(key_item.sk, f"key#{digest}"):
            raise Unauthorized("invalid API key")
        shop = Shop.model_validate(json.loads(items["profile"].document))
        key_scope = key_item.scope or "ingest"
        _cache[(shop_id, digest)] = (now, shop, key_scope)
    if key_scope != scope and key_scope != "admin":
        raise Forbidden(f"this key has the '{key_scope}' scope; '{scope}' is needed")
    return shop


def clear_cache() -> None:
    _cache.clear()
    _profiles.clear()
