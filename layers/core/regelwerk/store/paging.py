"""Paging tokens: DynamoDB's LastEvaluatedKey, bound to one shop and signed, so a token cannot be forged
or carried to another shop (a tampered token is a 400 naming ``$.next``).

``scope`` binds a token to the list, the index and the filters it came from as well
(``orders:by-created:<range>:<filters>``, see ``scope_of``): a token of one list given to another
would be a start key of the wrong shape, which DynamoDB refuses, and one of other filters would
page on from a place that list never reached. A token expires after ``TOKEN_SECONDS``: it is a
way to the next page, not a bookmark (the time it was made is signed with it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import MalformedBody, Problem
from ..settings import settings

if TYPE_CHECKING:
    from pynamodb.models import Model
    from pynamodb.pagination import ResultIterator


TOKEN_SECONDS = 24 * 3600


def scope_of(route: str, **filters: object) -> str:
    """A list's scope with its filters: the same filters, the same scope (their order does not matter)."""
    given = {k: v for k, v in sorted(filters.items()) if v not in (None, "")}
    if not given:
        return route
    digest = hashlib.sha256(json.dumps(given, default=str, separators=(",", ":")).encode()).hexdigest()[:16]
    return f"{route}:f{digest}"


def _mac(shop_id: str, payload: bytes, scope: str, issued: str) -> str:
    key = (settings().paging_secret or "regelwerk-local-paging").encode()
    bound = b"\x1f".join((shop_id.encode(), scope.encode(), issued.encode(), payload))
    return hmac.new(key, bound, hashlib.sha256).hexdigest()[:32]


def _invalid(reason: str = "not a token this list gave out") -> MalformedBody:
    return MalformedBody("invalid paging token", [Problem("$.next", reason)])


def encode(shop_id: str, last_key: dict[str, Any] | None, scope: str = "") -> str | None:
    if not last_key:
        return None
    payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    issued = format(int(time.time()), "x")
    return ".".join(
        (base64.urlsafe_b64encode(payload).decode().rstrip("="), issued, _mac(shop_id, payload, scope, issued))
    )


def decode(shop_id: str, token: str | None, scope: str = "") -> dict[str, Any] | None:
    if not token:
        return None
    try:
        body, issued, mac = token.split(".")
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        made = int(issued, 16)
    except ValueError as exc:
        raise _invalid() from exc
    if not hmac.compare_digest(mac, _mac(shop_id, payload, scope, issued)):
        raise _invalid()
    if not -300 <= time.time() - made <= TOKEN_SECONDS:  # five minutes of clock skew between containers
        raise _invalid("the token has expired: start again from the first page")
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
