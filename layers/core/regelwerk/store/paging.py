"""Paging tokens: DynamoDB's LastEvaluatedKey, bound to one shop and signed, so a token cannot be forged
or carried to another shop (a tampered token is a 400)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from ..errors import MalformedBody
from ..settings import settings


def _mac(shop_id: str, payload: bytes) -> str:
    key = (settings().paging_secret or "regelwerk-local-paging").encode()
    return hmac.new(key, shop_id.encode() + b"\x1f" + payload, hashlib.sha256).hexdigest()[:32]


def encode(shop_id: str, last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _mac(shop_id, payload)


def decode(shop_id: str, token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        body, mac = token.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise MalformedBody("invalid paging token") from exc
    if not hmac.compare_digest(mac, _mac(shop_id, payload)):
        raise MalformedBody("invalid paging token")
    return json.loads(payload)
