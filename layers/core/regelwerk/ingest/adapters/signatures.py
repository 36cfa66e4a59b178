"""Webhook signatures: HMAC-SHA256 over the exact bytes received, compared in constant time.

A shop's secret for a platform comes from ``shop.yaml`` as a reference, never as text:
``{env: NAME}`` names an environment variable of the function, ``{ssm: /name}`` an SSM
parameter (SecureString, read with decryption and kept for a minute in a warm container).

Rotation: while ``previous_valid_until`` lies ahead, a body signed with ``previous_secret``
is accepted too (Shopify, for one, keeps signing with the old secret for up to an hour).

Secrets are never logged; errors and logs name the reference, not its value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from datetime import datetime
from typing import Any, Literal

from ...clients import client
from ...errors import ServiceUnavailable, Unauthorized
from ...model.shop import SecretRef, Shop
from ...observability import logger

SSM_CACHE_SECONDS = 60
_ssm_cache: dict[str, tuple[float, bytes]] = {}


class SecretUnavailable(Exception):
    """A secret reference that does not resolve (variable unset, parameter missing, SSM refused)."""


def hmac_sha256(secret: bytes | str, raw: bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, raw, hashlib.sha256).digest()


def sign_base64(secret: bytes | str, raw: bytes) -> str:
    """The Shopify / WooCommerce signature of ``raw``: base64 of its HMAC-SHA256."""
    return base64.b64encode(hmac_sha256(secret, raw)).decode()


def sign_hex(secret: bytes | str, raw: bytes) -> str:
    """The Shopware signature of ``raw``: hex of its HMAC-SHA256."""
    return hmac_sha256(secret, raw).hex()


def decode_signature(value: str | None, encoding: Literal["base64", "hex"], header: str) -> bytes:
    """The 32 signature bytes a header carries; 401 naming the header when it is missing or malformed."""
    if not value or not value.strip():
        raise Unauthorized(f"missing signature: the {header} header is required")
    text = value.strip()
    try:
        digest = base64.b64decode(text, validate=True) if encoding == "base64" else bytes.fromhex(text)
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized(f"malformed {header}: expected the {encoding} HMAC-SHA256 of the body") from exc
    if len(digest) != hashlib.sha256().digest_size:
        raise Unauthorized(f"malformed {header}: expected the {encoding} HMAC-SHA256 of the body")
    return digest


def resolve(ref: SecretRef) -> bytes:
    """The secret a reference points to. Surrounding white space (a pasted newline) is dropped."""
    if ref.env:
        # The variable's name comes from shop.yaml, so it cannot be read into Settings up front.
        value = os.environ.get(ref.env, "").strip()
        if not value:
            raise SecretUnavailable(f"environment variable {ref.env} is not set")
        return value.encode()
    assert ref.ssm is not None
    now = time.monotonic()
    cached = _ssm_cache.get(ref.ssm)
    if cached and now - cached[0] < SSM_CACHE_SECONDS:
        return cached[1]
    from botocore.exceptions import BotoCoreError, ClientError  # botocore loads when a secret is first read from SSM

    try:
        answer = _ssm().get_parameter(Name=ref.ssm, WithDecryption=True)
    except ClientError as exc:
        raise SecretUnavailable(f"SSM parameter {ref.ssm}: {exc.response['Error'].get('Code', 'error')}") from exc
    except BotoCoreError as exc:
        raise SecretUnavailable(f"SSM parameter {ref.ssm}: {type(exc).__name__}") from exc
    secret = str(answer["Parameter"]["Value"]).strip().encode()
    if not secret:
        raise SecretUnavailable(f"SSM parameter {ref.ssm} is empty")
    _ssm_cache[ref.ssm] = (now, secret)
    return secret


def _ssm() -> Any:
    return client("ssm")


def clear_cache() -> None:
    _ssm_cache.clear()


def verify(shop: Shop, platform: str, raw: bytes, signature: bytes, *, header: str, now: datetime) -> None:
    """Accept ``raw`` if ``signature`` is its HMAC-SHA256 under the shop's current secret, or under the
    previous one while its grace period lasts. Else 401, or 503 when a secret cannot be read.
    """
    config = next((c for name, c in shop.platforms.items() if name == platform), None)
    if config is None or config.secret is None:
        raise Unauthorized(
            f"shop {shop.id!r} has no {platform} secret configured (platforms.{platform}.secret in shop.yaml)"
        )
    previous, until = config.previous_secret, config.previous_valid_until
    candidates = [config.secret]
    if previous is not None and until is not None and now < until:
        candidates.append(previous)
    unavailable: list[str] = []
    for ref in candidates:
        try:
            key = resolve(ref)
        except SecretUnavailable as exc:
            unavailable.append(str(exc))
            logger.error(
                "webhook secret unavailable", extra={"shop_id": shop.id, "platform": platform, "reason": str(exc)}
            )
            continue
        if hmac.compare_digest(hmac_sha256(key, raw), signature):
            return
    if unavailable:
        # The caller is not authenticated yet: which variable or parameter is missing goes to the log only.
        raise ServiceUnavailable(f"the shop's {platform} secret cannot be read right now (see the order-import log)")
    if previous is not None and until is not None and now >= until and _matches(previous, raw, signature):
        raise Unauthorized(
            f"invalid {header}: signed with the previous {platform} secret, accepted only until {until.isoformat()}"
        )
    raise Unauthorized(f"invalid {header}: it does not match the body (another secret, or the body was changed)")


def _matches(ref: SecretRef, raw: bytes, signature: bytes) -> bool:
    """Whether an expired previous secret signed the body: only to say so in the 401."""
    try:
        return hmac.compare_digest(hmac_sha256(resolve(ref), raw), signature)
    except SecretUnavailable:
        return False
