"""engine.evaluate: which rules an event triggers, why not, and the actions a fired rule plans."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from regelwerk.engine.evaluate import evaluate, plan_actions
from regelwerk.engine.rule import CompiledRule, load_rule
from regelwerk.model.order import Order

RUN = "evt_0123456789abcdef"

ORDER = {
    "id": "1001",
    "number": "1001",
    "channel": "shopify",
    "status": "paid",
    "currency": "EUR",
    "total": "149.90",
    "created_at": "2026-11-23T09:15:00+01:00",
    "paid_at": "2026-11-23T09:16:30+01:00",
    "shipping_address": {"name": "Anna Müller", "city": "Leipzig", "country": "DE"},
}

BIG_GERMAN = {
    "id": "thank-big-german-orders",
    "name": "Thank big German orders",
    "trigger": {"event": "order.imported"},
    "when": {
        "all": [
            {"field": "order.channel", "op": "in", "value": ["shopify", "woocommerce"]},
            {"field": "order.shipping_address.country", "op": "eq", "value": "DE"},
            {"field": "order.total", "op": "gt", "value": 100},
            {"field": "order.paid_at", "op": "exists"},
        ]
    },
    "limit": "unlimited",
    "mode": "sequential",
    "actions": [{"type": "email", "template": "thank-you", "to": "customer"}],
}

THREE_ACTIONS = [
    {"type": "pdf", "document": "invoice", "as": "invoice_pdf"},
    {"type": "email", "template": "invoice", "attach": ["invoice_pdf"]},
    {"type": "sms", "template": "invoice-sent", "delay": "10m"},
]


def compiled(**changes: Any) -> CompiledRule:
    doc = copy.deepcopy(BIG_GERMAN) | changes
    return load_rule({k: v for k, v in doc.items() if v is not None})


def make_ctx(event_type: str = "order.imported", event: dict[str, Any] | None = None, **order: Any) -> dict[str, Any]:
    current = Order.model_validate(ORDER | order)
    return {
        "order": current.to_context(),
        "customer": {"id": "cus_1", "order_count": 1},
        "shop": {"id": "demo"},
        "invoice": None,
        "previous": None,
        "event": {"id": RUN, "type": event_type, "status": current.status, "previous_status": None} | (event or {}),
    }


def evaluate_one(rule: CompiledRule, event_type: str, ctx: dict[str, Any]):
    [outcome] = evaluate([rule], event_type, ctx, RUN)
    return outcome


# ---------------------------------------------------------------- not fired


def test_trigger_mismatch_says_what_the_rule_waits_for() -> None:
    # Given a rule on order.imported, When an order.paid event arrives
    outcome = evaluate_one(compiled(), "order.paid", make_ctx("order.paid"))
    # Then it does not fire, and the run log says why, without evaluating conditions
    assert outcome.fired is False
    assert outcome.trigger_matched is False
    assert outcome.reason == "trigger did not match: waits for order.imported, event was order.paid"
    assert outcome.conditions is None
    assert outcome.actions == []


def test_trigger_mismatch_describes_every_trigger_with_its_parameters() -> None:
    rule = compiled(
        trigger=None,
        triggers=[
            {"event": "order.status_changed", "from": "paid", "to": "shipped"},
            {"event": "article.paid", "sku": "ESP-1000"},
        ],
    )
    outcome = evaluate_one(rule, "order.imported", make_ctx())
    assert outcome.reason == (
        "trigger did not match: waits for order.status_changed from paid to shipped"
        " or article.paid for sku ESP-1000, event was order.imported"
    )


def test_disabled_rule_never_fires() -> None:
    outcome = evaluate_one(compiled(enabled=False), "order.imported", make_ctx())
    assert outcome.fired is False
    assert outcome.reason == "rule is disabled"
    assert outcome.trigger_matched is True  # the log still shows it would have matched
    assert outcome.actions == []


def test_failed_conditions_name_the_first_failing_leaf_and_its_actual_value() -> None:
    # Given an order of 80.00 EUR (the rule wants more than 100)
    outcome = evaluate_one(compiled(), "order.imported", make_ctx(total="80.00"))
    # Then the reason names the leaf, the wanted value and the actual amount
    assert outcome.fired is False
    assert outcome.trigger_matched is True
    assert outcome.reason == "conditions not met: order.total gt 100 was false (actual value: 80.00)"
    assert outcome.actions == []
    # and the full explanation lists every leaf
    leaves = outcome.conditions["all"]
    assert [(leaf["field"], leaf["result"]) for leaf in leaves] == [
        ("order.channel", True),
        ("order.shipping_address.country", True),
        ("order.total", False),
        ("order.paid_at", True),
    ]


def test_failed_text_condition_quotes_the_actual_text() -> None:
    ctx = make_ctx(shipping_address={"city": "Wien", "country": "AT"})
    outcome = evaluate_one(compiled(), "order.imported", ctx)
    assert outcome.reason == "conditions not met: order.shipping_address.country eq 'DE' was false (actual value: 'AT')"


def test_failed_condition_on_a_missing_value_says_missing() -> None:
    outcome = evaluate_one(compiled(), "order.imported", make_ctx(paid_at=None))
    assert outcome.reason.startswith("conditions not met: order.paid_at exists")
    assert outcome.reason.endswith("was false (actual value: missing)")


def test_reason_for_an_operator_without_value_does_not_show_a_value() -> None:
    outcome = evaluate_one(compiled(), "order.imported", make_ctx(paid_at=None))
    assert outcome.reason == "conditions not met: order.paid_at exists was false (actual value: missing)"


def test_only_the_first_failing_leaf_is_named() -> None:
    ctx = make_ctx(channel="amazon", total="10")
    outcome = evaluate_one(compiled(), "order.imported", ctx)
    assert "order.channel in" in outcome.reason
    assert "order.total" not in outcome.reason


def test_failing_any_group_names_its_first_member() -> None:
    rule = compiled(
        when={
            "any": [
                {"field": "order.total", "op": "gte", "value": 500},
                {"field": "order.tags", "op": "contains", "value": "vip"},
            ]
        }
    )
    outcome = evaluate_one(rule, "order.imported", make_ctx())
    assert outcome.reason == "conditions not met: order.total gte 500 was false (actual value: 149.90)"


def test_failing_not_names_the_negated_field() -> None:
    rule = compiled(when={"not": {"field": "order.shipping_address.country", "op": "eq", "value": "DE"}})
    outcome = evaluate_one(rule, "order.imported", make_ctx())
    assert outcome.fired is False
    assert outcome.reason.startswith("conditions not met: not(")
    assert "order.shipping_address.country" in outcome.reason


# ---------------------------------------------------------------- fired


def test_fired_rule_plans_its_action_with_a_stable_id() -> None:
    # Given a paid German shopify order of 149.90 EUR
    outcome = evaluate_one(compiled(), "order.imported", make_ctx())
    # Then the rule fires and plans the e-mail with id {run_id}:{event_type}:{rule_id}:{index}
    assert outcome.fired is True
    assert outcome.reason == "trigger matched and all conditions held"
    assert outcome.conditions["result"] is True
    [planned] = outcome.actions
    assert planned.action_id == f"{RUN}:order.imported:thank-big-german-orders:0"
    assert planned.queue == "mail"
    assert planned.action == {"type": "email", "template": "thank-you", "to": "customer", "attach": []}
    assert planned.waiting is False
    assert planned.then == []
    assert outcome.as_dict()["actions"] == [planned.action_id]


def test_action_ids_are_the_same_on_every_evaluation() -> None:
    rule = compiled(actions=THREE_ACTIONS)
    first = [a.action_id for a in evaluate_one(rule, "order.imported", make_ctx()).actions]
    again = [a.action_id for a in evaluate_one(rule, "order.imported", make_ctx()).actions]
    assert (
        first
        == again
        == [
            f"{RUN}:order.imported:thank-big-german-orders:0",
            f"{RUN}:order.imported:thank-big-german-orders:1",
            f"{RUN}:order.imported:thank-big-german-orders:2",
        ]
    )


def test_action_ids_differ_per_event_type_of_one_run() -> None:
    rule = compiled(trigger=None, triggers=[{"event": "order.paid"}, {"event": "order.shipped"}], when=None)
    paid = evaluate_one(rule, "order.paid", make_ctx("order.paid")).actions[0].action_id
    shipped = evaluate_one(rule, "order.shipped", make_ctx("order.shipped")).actions[0].action_id
    assert paid == f"{RUN}:order.paid:thank-big-german-orders:0"
    assert shipped == f"{RUN}:order.shipped:thank-big-german-orders:0"


def test_rule_without_conditions_fires_on_its_trigger() -> None:
    outcome = evaluate_one(compiled(when=None), "order.imported", make_ctx(total="1.00"))
    assert outcome.fired is True
    assert outcome.reason == "trigger matched (no conditions)"
    assert outcome.conditions is None


def test_sequential_mode_sends_the_first_action_and_chains_the_rest() -> None:
    outcome = evaluate_one(compiled(mode="sequential", actions=THREE_ACTIONS), "order.imported", make_ctx())
    first, second, third = outcome.actions

    # Then only the first goes out now; the others wait for the one before them
    assert [a.waiting for a in outcome.actions] == [False, True, True]
    assert [a.queue for a in outcome.actions] == ["pdf", "mail", "sms"]
    assert first.then == [
        {"action_id": second.action_id, "action": second.action, "queue": "mail"},
        {"action_id": third.action_id, "action": third.action, "queue": "sms"},
    ]
    assert second.then == [] and third.then == []
    assert second.action["attach"] == ["invoice_pdf"]
    assert third.action["delay"] == "10m"


def test_parallel_mode_sends_every_action_at_once() -> None:
    outcome = evaluate_one(compiled(mode="parallel", actions=THREE_ACTIONS), "order.imported", make_ctx())
    assert [a.waiting for a in outcome.actions] == [False, False, False]
    assert [a.then for a in outcome.actions] == [[], [], []]
    assert [a.index for a in outcome.actions] == [0, 1, 2]


def test_planned_actions_carry_the_rule_version() -> None:
    rule = load_rule(copy.deepcopy(BIG_GERMAN) | {"version": 7})
    [planned] = plan_actions(rule, RUN, "order.imported")
    assert (planned.rule_id, planned.rule_version) == ("thank-big-german-orders", 7)


def test_every_rule_gets_an_outcome_in_order() -> None:
    rules = [
        compiled(id="a-fires"),
        compiled(id="b-wrong-trigger", trigger={"event": "order.paid"}),
        compiled(id="c-disabled", enabled=False),
        compiled(id="d-conditions", when={"field": "order.total", "op": "gt", "value": 1000}),
    ]
    outcomes = evaluate(rules, "order.imported", make_ctx(), RUN)
    assert [(o.rule_id, o.fired) for o in outcomes] == [
        ("a-fires", True),
        ("b-wrong-trigger", False),
        ("c-disabled", False),
        ("d-conditions", False),
    ]


# ---------------------------------------------------------------- status_changed to / from


@pytest.mark.parametrize(
    ("trigger", "previous_status", "status", "fires"),
    [
        ({"to": "shipped"}, "paid", "shipped", True),
        ({"to": "shipped"}, "paid", "cancelled", False),
        ({"from": "paid"}, "paid", "shipped", True),
        ({"from": "paid"}, "new", "shipped", False),
        ({"from": "paid", "to": "shipped"}, "paid", "shipped", True),
        ({"from": "paid", "to": "shipped"}, "new", "shipped", False),
        ({"from": "paid", "to": "shipped"}, "paid", "completed", False),
        ({}, "new", "on_hold", True),
    ],
)
def test_status_changed_to_and_from(trigger: dict[str, str], previous_status: str, status: str, fires: bool) -> None:
    rule = compiled(trigger={"event": "order.status_changed"} | trigger, when=None)
    ctx = make_ctx("order.status_changed", {"status": status, "previous_status": previous_status}, status=status)

    outcome = evaluate_one(rule, "order.status_changed", ctx)

    assert outcome.fired is fires
    assert outcome.trigger_matched is fires
    if not fires:
        assert outcome.reason.startswith("trigger did not match: waits for order.status_changed")


def test_article_trigger_matches_only_its_sku() -> None:
    rule = compiled(trigger={"event": "article.paid", "sku": "ESP-1000"}, when=None)
    assert evaluate_one(rule, "article.paid", make_ctx("article.paid", {"sku": "ESP-1000"})).fired is True
    assert evaluate_one(rule, "article.paid", make_ctx("article.paid", {"sku": "MUG-01"})).fired is False
