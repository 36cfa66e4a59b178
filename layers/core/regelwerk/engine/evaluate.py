"""The engine: which rules an event triggers, whether their conditions hold, and which actions to plan.

Pure logic, no AWS: given compiled rules, an event and its context, ``evaluate`` returns a
``RuleOutcome`` per rule, explaining the decision in the words of the run log, and the
``PlannedAction`` list of the rules that fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rule import CompiledRule

MAX_CHAIN_DEPTH = 5  # set_order_status chains stop here


@dataclass(slots=True)
class PlannedAction:
    """One action of one fired rule, ready to become a queue message."""

    action_id: str
    rule_id: str
    rule_version: int
    index: int
    action: dict[str, Any]
    queue: str
    then: list[dict[str, Any]] = field(default_factory=list)  # sequential mode: what follows on success
    waiting: bool = False  # sequential: planned, sent by the handler of the action before it


@dataclass(slots=True)
class RuleOutcome:
    rule_id: str
    rule_version: int
    name: str
    fired: bool
    reason: str
    trigger_matched: bool
    conditions: dict[str, Any] | None = None
    limit: str | None = None
    actions: list[PlannedAction] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "version": self.rule_version,
            "name": self.name,
            "fired": self.fired,
            "reason": self.reason,
            "trigger_matched": self.trigger_matched,
            "conditions": self.conditions,
            "limit": self.limit,
            "actions": [a.action_id for a in self.actions],
        }


def _describe_triggers(compiled: CompiledRule) -> str:
    parts = []
    for t in compiled.rule.all_triggers:
        text: str = t.event
        if t.from_:
            text += f" from {t.from_}"
        if t.to:
            text += f" to {t.to}"
        if t.sku:
            text += f" for sku {t.sku}"
        parts.append(text)
    return " or ".join(parts)


def plan_actions(compiled: CompiledRule, run_id: str, event_type: str) -> list[PlannedAction]:
    """Turn a fired rule's actions into planned actions with stable ids (the basis of deduplication).

    Actions that change the customer (queue "inline") apply while the event is processed; the others
    go to their queues. In sequential mode the queued ones form a chain: only the first is sent, each
    handler sends the next after its own action succeeded.
    """
    rule = compiled.rule
    planned = []
    for i, action in enumerate(rule.actions):
        planned.append(
            PlannedAction(
                action_id=f"{run_id}:{event_type}:{rule.id}:{i}",
                rule_id=rule.id,
                rule_version=rule.version,
                index=i,
                action=action.model_dump(mode="json", by_alias=True, exclude_none=True),
                queue=action.queue,
            )
        )
    queued = [p for p in planned if p.queue != "inline"]
    if rule.mode == "sequential" and queued:
        queued[0].then = [{"action_id": p.action_id, "action": p.action, "queue": p.queue} for p in queued[1:]]
        for p in queued[1:]:
            p.waiting = True
    return planned


def evaluate(
    rules: list[CompiledRule],
    event_type: str,
    ctx: dict[str, Any],
    run_id: str,
    *,
    any_trigger: bool = False,
    action_key: str | None = None,
) -> list[RuleOutcome]:
    """Evaluate every rule against one event. Rules whose trigger matches get a full condition explanation.

    ``any_trigger``: the rule was started by hand or over a selection, whatever its trigger says.
    ``action_key``: what the planned actions' ids are made of instead of the event type, when one
    event type occurs several times in a run (``article.paid#2``: once per line item).
    """
    event = ctx.get("event") or {}
    outcomes = []
    for compiled in rules:
        rule = compiled.rule
        base: dict[str, Any] = {"rule_id": rule.id, "rule_version": rule.version, "name": rule.name}
        matched = any_trigger or any(t.matches(event_type, event) for t in rule.all_triggers)
        if not rule.enabled:
            outcomes.append(RuleOutcome(**base, fired=False, reason="rule is disabled", trigger_matched=matched))
            continue
        if not matched:
            outcomes.append(
                RuleOutcome(
                    **base,
                    fired=False,
                    trigger_matched=False,
                    reason=f"trigger did not match: waits for {_describe_triggers(compiled)}, event was {event_type}",
                )
            )
            continue
        fired = compiled.condition.matches(ctx)
        explanation = compiled.condition.explain(ctx)
        if not fired:
            outcomes.append(
                RuleOutcome(
                    **base,
                    fired=False,
                    reason=failure_reason(explanation),
                    trigger_matched=True,
                    conditions=explanation,
                )
            )
            continue
        outcomes.append(
            RuleOutcome(
                **base,
                fired=True,
                trigger_matched=True,
                conditions=explanation,
                reason="trigger matched and all conditions held" if explanation else "trigger matched (no conditions)",
                actions=plan_actions(compiled, run_id, action_key or event_type),
            )
        )
    return outcomes


def failure_reason(explanation: dict[str, Any] | None) -> str:
    """'conditions not met: order.total gt 100 was false (actual value: 80.00 EUR)'."""
    reason = "conditions not met"
    failed = _first_failed(explanation)
    if failed:
        value = "" if failed["op"] in ("exists", "not_exists", "changed", "held") else f" {_show(failed.get('value'))}"
        reason += f": {failed['field']} {failed['op']}{value} was false (actual value: {_show(failed.get('actual'))})"
    return reason


def article_results(
    kind: str, line_items: list[dict[str, Any]], rules: list[CompiledRule], ctx: dict[str, Any], run_id: str
) -> list[tuple[str, dict[str, Any], list[RuleOutcome]]]:
    """``article.paid`` / ``article.invoiced``: one event per line item with a SKU (WBS Factura's article
    processes), evaluated only when some rule waits for it, so the run log is not filled with misses."""
    if not any(t.event == kind for c in rules for t in c.rule.all_triggers):
        return []
    out = []
    for i, item in enumerate(line_items):
        if not item.get("sku"):
            continue
        event = ctx["event"] | {"type": kind, "sku": item["sku"], "quantity": item.get("quantity"), "line": i}
        line_ctx = ctx | {"event": event, "line_item": item}
        out.append((kind, line_ctx, evaluate(rules, kind, line_ctx, run_id, action_key=f"{kind}#{i}")))
    return out


def _first_failed(node: dict[str, Any] | None) -> dict[str, Any] | None:
    if not node or node.get("result"):
        return None
    if "field" in node:
        return node
    for key in ("all", "any"):
        for child in node.get(key, []):
            found = _first_failed(child)
            if found:
                return found
    if "not" in node:
        inner = node["not"][0]
        return {
            "field": f"not({inner.get('field', '...')})",
            "op": "held",
            "value": None,
            "actual": inner.get("actual"),
        }
    return None


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, dict) and "amount" in value:
        return f"{value['amount']} {value.get('currency', '')}".strip()
    if isinstance(value, str):
        try:
            float(value)
            return value  # a number read as text (amounts): no quotes
        except ValueError:
            return repr(value)
    return str(value)
