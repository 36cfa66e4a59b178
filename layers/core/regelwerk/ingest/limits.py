"""Frequency limits: a rule's "once per customer (per 30 days)" and the shop-wide marketing limit.

Each limit is a conditional ledger write in the event's own transaction, so of two concurrent events
of one customer only one passes; the other evaluates again and finds the limit taken.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from ..engine.rule import parse_duration
from ..model.shop import Shop
from ..store.tables import LedgerItem, get_or_none

Claim = tuple[LedgerItem, Any, str]  # the item, its write condition, the rule it is for


def limit_claims(
    shop: Shop, rules: list, results: list, customer_id: str, now: datetime, suppressed: dict[str, str]
) -> list[Claim]:
    """Conditional ledger writes that let at most one event per customer pass a rule's frequency limit."""
    by_id = {c.rule.id: c.rule for c in rules}
    claims: dict[str, Claim] = {}
    for _, _, outcomes in results:
        for outcome in outcomes:
            if not outcome.fired:
                continue
            rule = by_id[outcome.rule_id]
            window = rule.limit_window
            if window is None:
                continue
            if outcome.rule_id in suppressed:
                outcome.fired = False
                outcome.limit = suppressed[outcome.rule_id]
                outcome.reason = f"suppressed by {suppressed[outcome.rule_id]} ({_limit_text(rule)})"
                outcome.actions = []
                continue
            key = f"limit#{shop.id}#{rule.id}#{customer_id}"
            outcome.limit = f"passed: first within {_limit_text(rule)}"
            if key in claims:
                continue
            expires = None if window == timedelta.max else now + window
            item = LedgerItem(key, status="claimed", expiration=expires, updated_at=now.isoformat())
            condition = LedgerItem.id.does_not_exist() | (LedgerItem.expiration < now)
            claims[key] = (item, condition, rule.id)
    cap = _marketing_claim(shop, by_id, results, customer_id, now)
    if cap is not None:
        claims[cap[0].id] = cap
    return list(claims.values())


def _marketing_claim(shop: Shop, rules: dict[str, Any], results: list, customer_id: str, now: datetime) -> Claim | None:
    """The shop-wide marketing limit: how many marketing rules may still fire for this customer.

    The customer's recent marketing sends are one ledger item (``cap#<shop>#<customer>``), written
    in the event's transaction on the condition that nobody changed it since it was read: of two
    concurrent events, one retries and then sees the other's sends. Rules beyond the limit are held
    back with the reason in the run log; transactional rules never count.
    """
    limit = shop.marketing_limit
    if limit is None:
        return None
    marketing = [o for _, _, outs in results for o in outs if o.fired and rules[o.rule_id].category == "marketing"]
    if not marketing:
        return None
    window = parse_duration(limit.per)
    key = f"cap#{shop.id}#{customer_id}"
    held = get_or_none(LedgerItem, key)
    sent = [t for t in json.loads(held.detail or "[]") if datetime.fromisoformat(t) > now - window] if held else []
    room = max(0, limit.max - len(sent))
    for outcome in marketing[room:]:
        outcome.fired = False
        outcome.actions = []
        outcome.limit = f"shop-wide marketing limit reached: {len(sent)} of {limit.max} per {limit.per}"
        outcome.reason = f"suppressed: at most {limit.max} marketing messages per customer per {limit.per}"
    if room == 0:
        return None
    for outcome in marketing[:room]:
        outcome.limit = f"marketing limit: {len(sent) + 1} of {limit.max} per {limit.per}"
    item = LedgerItem(
        key,
        status="cap",
        detail=json.dumps(sent + [now.isoformat()] * len(marketing[:room])),
        expiration=now + window,
        updated_at=f"{now.isoformat()}#{uuid.uuid4().hex[:8]}",  # the version the next writer checks
    )
    condition = LedgerItem.id.does_not_exist() if held is None else (LedgerItem.updated_at == held.updated_at)
    return item, condition, "marketing-limit"


def _limit_text(rule: Any) -> str:
    return rule.limit if isinstance(rule.limit, str) else f"once per customer per {rule.limit.once_per_customer_per}"
