"""Actions that change the customer (set_customer_language, tag_customer).

They apply while the event is processed, inside the same transaction that records the order and
the customer, so they happen exactly once with the event, and this event's own messages already
see their result (an invoice e-mail in the language just set from the delivery country).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..model.customer import Customer
from ..model.order import Order


@lru_cache(maxsize=256)
def language_of_country(country: str) -> str | None:
    """The first official language of a country (CLDR, via Babel): DE -> de, AT -> de, GB -> en, CH -> de."""
    from babel.languages import get_official_languages  # Babel's data loads on first use, not at cold start

    for code in get_official_languages(country, de_facto=True):
        if len(code) == 2:
            return code
    return None


def _apply_one(action: dict[str, Any], customer: Customer, order: Order | None) -> dict[str, Any]:
    if action["type"] == "set_customer_language":
        if order is None:
            return {"state": "failed", "reason": "set_customer_language needs an order event"}
        address = (
            order.shipping_address
            if action.get("source", "shipping_country") == "shipping_country"
            else (order.billing_address)
        )
        country = address.country if address else None
        language = (language_of_country(country) if country else None) or action.get("fallback")
        if not language:
            return {"state": "failed", "reason": f"no language known for country {country!r} and no fallback given"}
        before = customer.language
        customer.language = language
        return {"state": "done", "detail": f"language {before or 'unset'} -> {language} (from {country})"}
    field = action.get("field", "tags")
    values = list(getattr(customer, field))
    if action.get("replace") is not None:
        values = list(action["replace"])
    values = [v for v in values if v not in action.get("remove", [])]
    values += [v for v in action.get("add", []) if v not in values]
    before = getattr(customer, field)
    setattr(customer, field, values)
    return {"state": "done", "detail": f"{field} {before} -> {values}"}


def apply_customer_actions(
    results: list, customer: Customer | None, order: Order | None, skip: set[str] | frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """Apply the fired rules' customer actions in rule order; returns each action's delivery entry.

    ``skip``: rules held back by a frequency limit; their actions do not apply.
    """
    done: dict[str, dict[str, Any]] = {}
    for _, _, outcomes in results:
        for outcome in outcomes:
            if outcome.rule_id in skip:
                continue
            for planned in outcome.actions:
                if planned.queue != "inline":
                    continue
                if customer is None:
                    done[planned.action_id] = {"state": "failed", "reason": "this event has no customer to change"}
                else:
                    done[planned.action_id] = _apply_one(planned.action, customer, order)
    if customer is not None and done:
        for _, ctx, _ in results:  # this event's messages carry the customer as the actions left it
            ctx["customer"] = customer.to_context()
    return done
