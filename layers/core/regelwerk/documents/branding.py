"""The shop's logo on its documents: one PNG in the documents bucket, put there by `regelwerk apply`.

``logo.png`` beside ``shop.yaml`` (a PNG of at most 200 KB) is uploaded to
``shops/<shop>/branding/logo.png`` (private, encrypted). The PDF handler reads it once per warm
container and five minutes at most, and draws it in the letterhead of every document.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ..clients import client
from ..settings import settings

MAX_BYTES = 200 * 1024
PNG = b"\x89PNG\r\n\x1a\n"
CACHE_SECONDS = 300
_cache: dict[str, tuple[float, bytes | None]] = {}


def key_for(shop_id: str) -> str:
    return f"shops/{shop_id}/branding/logo.png"


def problems(data: bytes) -> list[str]:
    out = []
    if not data.startswith(PNG):
        out.append("logo.png is not a PNG image")
    if len(data) > MAX_BYTES:
        out.append(f"logo.png is {len(data)} bytes; at most {MAX_BYTES} (it goes into every PDF)")
    return out


def _client() -> Any:
    return client("s3")


def store_logo(shop_id: str, data: bytes) -> bool:
    """Upload the logo unless the same one is there already. Returns whether it was uploaded."""
    bucket = settings().documents_bucket
    if not bucket:
        raise RuntimeError("DOCUMENTS_BUCKET is not configured: cannot store the logo")
    client = _client()
    try:
        current = client.head_object(Bucket=bucket, Key=key_for(shop_id))["ETag"].strip('"')
    except client.exceptions.ClientError:
        current = None
    if current == hashlib.md5(data, usedforsecurity=False).hexdigest():
        return False
    client.put_object(
        Bucket=bucket, Key=key_for(shop_id), Body=data, ContentType="image/png", ServerSideEncryption="AES256"
    )
    _cache.pop(shop_id, None)
    return True


def load_logo(shop_id: str | None) -> bytes | None:
    """The shop's logo, or None (no bucket configured, or no logo uploaded)."""
    bucket = settings().documents_bucket
    if not bucket or not shop_id:
        return None
    now = time.monotonic()
    hit = _cache.get(shop_id)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    client = _client()
    try:
        data: bytes | None = client.get_object(Bucket=bucket, Key=key_for(shop_id))["Body"].read()
    except client.exceptions.NoSuchKey:
        data = None
    _cache[shop_id] = (now, data)
    return data
