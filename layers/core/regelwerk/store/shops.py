"""Shops, their API keys and their customer-id keys. API keys are stored only as SHA-256 hashes.

A shop's customer-id key (``customer-id-key``, 32 random bytes) makes its customers' ids an HMAC of what
they are matched on, so no one without it can derive an id from an e-mail address. It must be usable, so
it is stored as it is, in the shops table (encrypted at rest like every table, readable only by the
functions that already read the shop's profile); it never leaves the store and is never shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from pynamodb.exceptions import PutError

from ..clients import client
from ..errors import Conflict, Forbidden, NotFound, Unauthorized
from ..model.shop import Shop
from ..observability import logger
from .schedules import sync_shop_schedules
from .tables import ShopItem

KEY_PREFIX = "rw_"
SCOPES = ("ingest", "admin")
_CACHE_SECONDS = 60
_profiles: dict[str, tuple[float, Shop]] = {}


def hash_key(key: str) -> str:
    # API keys are 256-bit random tokens, so a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def save_shop(shop: Shop) -> None:
    """Store the shop's settings and keep its daily overdue scan (dunning) scheduled accordingly."""

    ShopItem(shop.id, "profile", document=shop.model_dump_json()).save()
    _profiles.pop(shop.id, None)
    ensure_customer_id_key(shop.id)
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

    The key is looked up under the shop of the URL, so a key of shop A can never open shop B. The
    key's item is read on every request (one GetItem), so a revoked key stops working at once in
    every warm container; the shop's profile is cached for a minute.
    """
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    key = authorization[len("Bearer ") :].strip()
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        raise Unauthorized("invalid API key")
    digest = hash_key(key)
    shop = load_shop(shop_id)  # 404 for an unknown shop
    try:
        key_item = ShopItem.get(shop_id, f"key#{digest}")
    except ShopItem.DoesNotExist as exc:
        raise Unauthorized("invalid API key") from exc
    # compare_digest keeps the check constant-time even though the lookup already matched
    if not hmac.compare_digest(key_item.sk, f"key#{digest}"):
        raise Unauthorized("invalid API key")
    key_scope = key_item.scope or "ingest"
    if key_scope != scope and key_scope != "admin":
        raise Forbidden(f"this key has the '{key_scope}' scope; '{scope}' is needed")
    _note_use(shop_id, digest)
    return shop


_USE_NOTED_SECONDS = 3600  # last use is written at most hourly per key and container: keys list shows the day
_noted: dict[tuple[str, str], float] = {}


def _note_use(shop_id: str, digest: str) -> None:
    now = time.monotonic()
    if now - _noted.get((shop_id, digest), -_USE_NOTED_SECONDS) < _USE_NOTED_SECONDS:
        return
    _noted[(shop_id, digest)] = now
    try:
        client("dynamodb").update_item(
            TableName=ShopItem.Meta.table_name,
            Key={"shop_id": {"S": shop_id}, "sk": {"S": f"key#{digest}"}},
            UpdateExpression="SET last_used_at = :now",
            ConditionExpression="attribute_exists(sk)",
            ExpressionAttributeValues={":now": {"S": datetime.now(UTC).isoformat(timespec="seconds")}},
        )
    except Exception:  # noting the use must never fail the request it belongs to
        logger.warning("could not note a key's last use", extra={"shop_id": shop_id})


def key_id(digest: str) -> str:
    """A key's public name: the start of its hash (the key itself is never stored or shown again)."""
    return f"key_{digest[:12]}"


def list_keys(shop_id: str) -> list[dict[str, str | None]]:
    """The shop's keys: id, scope, label, created and last used; never the key."""
    get_shop(shop_id)
    answer = client("dynamodb").query(
        TableName=ShopItem.Meta.table_name,
        KeyConditionExpression="shop_id = :s AND begins_with(sk, :k)",
        ExpressionAttributeValues={":s": {"S": shop_id}, ":k": {"S": "key#"}},
    )
    rows = []
    for item in answer.get("Items", []):
        text = {name: value.get("S") for name, value in item.items()}
        rows.append(
            {
                "id": key_id(text["sk"].removeprefix("key#")),
                "scope": text.get("scope") or "ingest",
                "label": text.get("label"),
                "created_at": text.get("created_at"),
                "last_used_at": text.get("last_used_at"),
            }
        )
    return sorted(rows, key=lambda r: r["created_at"] or "")


def revoke_key(shop_id: str, wanted: str) -> dict[str, str | None]:
    """Delete a key by its id; it stops working at once. The shop's last admin key is kept (409):
    without it nobody could manage the shop through the API."""
    keys = list_keys(shop_id)
    found = next((k for k in keys if k["id"] == wanted), None)
    if found is None:
        raise NotFound(f"no key {wanted!r} in shop {shop_id!r} (regelwerk keys list {shop_id})")
    if found["scope"] == "admin" and sum(1 for k in keys if k["scope"] == "admin") == 1:
        raise Conflict("this is the shop's last admin key: create another one before revoking it")
    digest = next(
        i.sk.removeprefix("key#")
        for i in ShopItem.query(shop_id, ShopItem.sk.startswith(f"key#{wanted.removeprefix('key_')}"))
    )
    ShopItem(shop_id, f"key#{digest}").delete()
    return found


CUSTOMER_ID_KEY = "customer-id-key"
_id_keys: dict[str, tuple[float, bytes | None]] = {}


def customer_id_key(shop_id: str) -> bytes | None:
    """The shop's customer-id key, or None for a shop saved before keys existed (its ids stay the legacy
    SHA-256 until the shop is saved again; see docs/privacy.md). A key never changes: cached once read."""
    now = time.monotonic()
    cached = _id_keys.get(shop_id)
    if cached and (cached[1] is not None or now - cached[0] < _CACHE_SECONDS):
        return cached[1]
    try:
        item = ShopItem.get(shop_id, CUSTOMER_ID_KEY, consistent_read=True)
        key: bytes | None = base64.b64decode(item.document or "")
    except ShopItem.DoesNotExist:
        key = None
    _id_keys[shop_id] = (now, key)
    return key


def ensure_customer_id_key(shop_id: str) -> bytes:
    """The shop's customer-id key, made once (a conditional put: two first saves keep one key)."""
    existing = customer_id_key(shop_id)
    if existing:
        return existing
    try:
        ShopItem(shop_id, CUSTOMER_ID_KEY, document=base64.b64encode(secrets.token_bytes(32)).decode()).save(
            condition=ShopItem.sk.does_not_exist()
        )
    except PutError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise
    _id_keys.pop(shop_id, None)
    key = customer_id_key(shop_id)
    assert key is not None  # just written (or by a concurrent save), read consistently
    return key


def clear_cache() -> None:
    _profiles.clear()
    _noted.clear()
    _id_keys.clear()
