"""Sign the sample platform webhooks of events/platforms/ the way each platform does, for the demo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

SECRET_VARS = {
    "shopify": "DEMO_SHOPIFY_SECRET",
    "woocommerce": "DEMO_WOOCOMMERCE_SECRET",
    "shopware": "DEMO_SHOPWARE_SECRET",
}


def ensure_demo_secrets() -> dict[str, str]:
    """Random webhook secrets for the demo shop's platforms and its outgoing webhook (kept if already set)."""
    for var in (*SECRET_VARS.values(), "DEMO_WEBHOOK_SECRET"):
        os.environ.setdefault(var, secrets.token_hex(16))
    return {platform: os.environ[var] for platform, var in SECRET_VARS.items()}


def signed(path: Path, ingest_key: str) -> tuple[str, dict[str, str], bytes]:
    """(platform, headers, body) for one sample file, signed with the demo secret of its platform."""
    platform = path.name.split("-", 1)[0]
    body = path.read_bytes()
    if platform == "shopware":  # Shopware signs a send time into the body: send it now
        envelope = json.loads(body)
        envelope["timestamp"] = int(time.time())
        body = json.dumps(envelope, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if platform == "billbee":
        headers["Authorization"] = f"Bearer {ingest_key}"
        return platform, headers, body
    mac = hmac.new(os.environ[SECRET_VARS[platform]].encode(), body, hashlib.sha256).digest()
    if platform == "shopify":
        headers |= {
            "X-Shopify-Hmac-Sha256": base64.b64encode(mac).decode(),
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": hashlib.sha256(body).hexdigest()[:32],
        }
    elif platform == "woocommerce":
        headers |= {"X-WC-Webhook-Signature": base64.b64encode(mac).decode(), "X-WC-Webhook-Topic": "order.created"}
    elif platform == "shopware":
        headers["shopware-shop-signature"] = mac.hex()
    return platform, headers, body
