"""Dry runs and simulations: what a rule would do, with the full explanation and rendered messages,
and no side effect (nothing sent, nothing written)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ..actions.mail import preview_email
from ..actions.sms import preview_sms
from ..engine.context import rule_context
from ..engine.evaluate import RuleOutcome, evaluate
from ..engine.rule import CompiledRule, load_rule
from ..errors import ActionFailed, InvalidInput, Problem, pydantic_problems
from ..model.customer import Customer, apply_order, customer_id_for
from ..model.messages import ActionMessage
from ..model.order import Order
from ..model.shop import Shop
from ..store import paging
from ..store.customers import customer_from_item
from ..store.orders import get_order_item, order_of
from ..store.rules import get_rule
from ..store.shops import customer_id_key
from ..store.tables import CustomerItem, OrderItem

MAX_SIMULATED = 5000  # orders per simulate call; the answer's `next` continues from there


def _compiled(shop_id: str, rule: dict[str, Any] | None, rule_id: str | None) -> CompiledRule:
    if rule is not None:
        try:
            return load_rule(rule)
        except InvalidInput as exc:
            problems = [Problem(f"$.rule{p.path[1:]}", p.reason) for p in exc.problems]
            raise InvalidInput("invalid rule", problems) from exc
    if rule_id:
        return load_rule(get_rule(shop_id, rule_id).model_dump(mode="json", by_alias=True, exclude_none=True))
    raise InvalidInput("give a rule document or a rule id", [])


def _order_context(shop: Shop, order: Order, stored_customer: Customer | None) -> dict[str, Any]:
    cid = (
        stored_customer.id
        if stored_customer
        else customer_id_for(shop.id, order, shop.customer_matching, customer_id_key(shop.id))
    )
    customer = stored_customer or apply_order(None, cid, order, new_order=True)
    return rule_context(shop, order=order, customer=customer)


def _preview(shop: Shop, outcome: RuleOutcome, ctx: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    out = []
    for planned in outcome.actions:
        msg = ActionMessage(
            shop_id=shop.id,
            run_id="dry-run",
            event_type=event_type,
            action_id=planned.action_id,
            rule_id=planned.rule_id,
            rule_version=planned.rule_version,
            action=planned.action,
            context=ctx,
        )
        kind = msg.kind
        try:
            if kind == "email":
                out.append(preview_email(msg))
            elif kind == "sms":
                out.append(preview_sms(msg))
            else:
                out.append(
                    {
                        "type": kind,
                        "document": planned.action.get("document"),
                        "note": "the document is rendered when the action runs",
                    }
                )
        except ActionFailed as exc:
            out.append({"type": kind, "error": str(exc)})
    return out


def test_rule(
    shop: Shop,
    *,
    rule: dict[str, Any] | None = None,
    rule_id: str | None = None,
    order: dict[str, Any] | None = None,
    order_id: str | None = None,
    event: str | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """Evaluate one rule against an order (given, or stored) as if the event happened now;
    ``language`` renders its messages in that language (a template preview's choice)."""
    compiled = _compiled(shop.id, rule, rule_id)
    canonical, ctx = order_context(shop, order=order, order_id=order_id)
    if language:
        ctx["customer"] = dict(ctx.get("customer") or {}) | {"language": language}
    event_type = event or compiled.rule.all_triggers[0].event
    trigger = compiled.rule.all_triggers[0]
    ctx["event"] = {
        "id": "dry-run",
        "type": event_type,
        "received_at": datetime.now(UTC).isoformat(),
        "platform": "dry-run",
        "status": trigger.to or canonical.status,
        "previous_status": trigger.from_,
    }
    [outcome] = evaluate([compiled], event_type, ctx, "dry-run")
    return {
        "rule": compiled.rule.id,
        "event": event_type,
        "order_id": canonical.id,
        "fired": outcome.fired,
        "reason": outcome.reason,
        "conditions": outcome.conditions,
        "limit": "frequency limits are not checked in a dry run" if compiled.rule.limit != "unlimited" else None,
        "messages": _preview(shop, outcome, ctx, event_type) if outcome.fired else [],
        "side_effects": "none: nothing was sent or written",
    }


def order_context(
    shop: Shop, *, order: dict[str, Any] | None = None, order_id: str | None = None
) -> tuple[Order, dict[str, Any]]:
    """The rule context of an order given in the request, or of a stored one with its customer."""
    stored_customer = None
    if order is not None:
        try:
            canonical = Order.model_validate(order)
        except ValidationError as exc:
            raise InvalidInput("invalid order", pydantic_problems(exc, "$.order")) from exc
    elif order_id:  # an id, or the shop's number: number:1001[@channel]
        item = get_order_item(shop.id, order_id)
        canonical = order_of(item)
        try:
            stored_customer = customer_from_item(CustomerItem.get(shop.id, item.customer_id))
        except CustomerItem.DoesNotExist:
            stored_customer = None
    else:
        raise InvalidInput("give an order or an order_id", [])
    return canonical, _order_context(shop, canonical, stored_customer)


def simulate(
    shop: Shop,
    *,
    rule: dict[str, Any] | None = None,
    rule_id: str | None = None,
    since: datetime,
    until: datetime,
    samples: int = 3,
    token: str | None = None,
) -> dict[str, Any]:
    """What a rule would have done for the shop's orders created in [since, until), paged through the data.

    Each stored order is taken as the rule's first trigger event (order history is not replayed,
    so status-change rules see the order as it is now).
    """
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise InvalidInput("invalid window", [])
    compiled = _compiled(shop.id, rule, rule_id)
    event_type = compiled.rule.all_triggers[0].event
    considered = fired = 0
    actions: dict[str, int] = {}
    reasons: dict[str, int] = {}
    sample_out: list[dict[str, Any]] = []
    low, high = since.astimezone(UTC).isoformat(), until.astimezone(UTC).isoformat()
    scope = f"simulate:by-created:{low}:{high}"  # its token goes on in this window only
    # the by-created index reads the window's orders only (created_at is UTC there), not the shop's all
    results = OrderItem.by_created.query(
        shop.id,
        OrderItem.created_at.between(low, high),
        last_evaluated_key=paging.decode(shop.id, token, scope),
        page_size=200,
    )
    for item in results:
        considered += 1
        order = order_of(item)
        ctx = _order_context(shop, order, None)
        ctx["event"] = {
            "id": "simulation",
            "type": event_type,
            "received_at": order.created_at.isoformat(),
            "platform": "simulation",
            "status": order.status,
            "previous_status": None,
        }
        [outcome] = evaluate([compiled], event_type, ctx, "simulation")
        if outcome.fired:
            fired += 1
            for planned in outcome.actions:
                actions[planned.action["type"]] = actions.get(planned.action["type"], 0) + 1
            if len(sample_out) < samples:
                sample_out.append(
                    {
                        "order_id": order.id,
                        "order_number": order.number,
                        "messages": _preview(shop, outcome, ctx, event_type),
                    }
                )
        else:
            key = outcome.reason.split(" (actual")[0]
            reasons[key] = reasons.get(key, 0) + 1
        if considered >= MAX_SIMULATED:
            break
    next_token = paging.encode(shop.id, results.last_evaluated_key, scope) if considered >= MAX_SIMULATED else None
    return {
        "rule": compiled.rule.id,
        "event": event_type,
        "window": [since.isoformat(), until.isoformat()],
        "orders_considered": considered,
        "would_fire": fired,
        "actions": actions,
        "not_fired_because": reasons,
        "samples": sample_out,
        "next": next_token,
        "side_effects": "none: nothing was sent or written",
    }
