"""Paging tokens: DynamoDB's LastEvaluatedKey, bound to one shop and signed, so a token cannot be forged
or carried to another shop (a tampered token is a 400 naming ``$.next``).

``scope`` binds a token to the list and index it came from as well (``orders:by-number:<key>``): a
token of one list given to another would be a start key of the wrong shape, which DynamoDB refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import MalformedBody, Problem
from ..settings import settings

if TYPE_CHECKING:
    from pynamodb.models import Model
    from pynamodb.pagination import ResultIterator


def _mac(shop_id: str, payload: bytes, scope: str) -> str:
    key = (settings().paging_secret or "regelwerk-local-paging").encode()
    bound = shop_id.encode() + b"\x1f" + (scope.encode() + b"\x1f" if scope else b"") + payload
    return hmac.new(key, bound, hashlib.sha256).hexdigest()[:32]


def _invalid() -> MalformedBody:
    return MalformedBody("invalid paging token", [Problem("$.next", "not a token this list gave out")])


def encode(shop_id: str, last_key: dict[str, Any] | None, scope: str = "") -> str | None:
    if not last_key:
        return None
    payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _mac(shop_id, payload, scope)


def decode(shop_id: str, token: str | None, scope: str = "") -> dict[str, Any] | None:
    if not token:
        return None
    try:
        body, mac = token.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise _invalid() from exc
    if not hmac.compare_digest(mac, _mac(shop_id, payload, scope)):
        raise _invalid()
    return json.loads(payload)


def read_page[M: Model](
    model: type[M],
    query: Callable[[dict[str, Any] | None, int], ResultIterator[M]],
    keep: Callable[[M], bool],
    *,
    limit: int,
    start: dict[str, Any] | None,
    requests: int = 8,
) -> tuple[list[M], dict[str, Any] | None]:
    """One page of a Query, filtered by ``keep``, and the key to go on from (None at the end).

    ``query(start_key, n)`` makes a Query of ``model`` (its table or an index) that evaluates at most
    ``n`` items a request. Each request asks for no more items than the page still lacks, so the key
    after the last request is exact; a rarely matching filter stops after ``requests`` requests with a
    shorter page and a key to go on (DynamoDB charges for what it evaluates, filtered or not).
    """
    found: list[M] = []
    key = start
    for _ in range(requests):
        results = query(key, limit - len(found))
        page = next(results.page_iter, None)
        for raw in (page or {}).get("Items", []):
            item = model.from_raw_data(raw)
            if keep(item):
                found.append(item)
        key = results.page_iter.last_evaluated_key
        if key is None or len(found) >= limit:
            break
    return found, key
