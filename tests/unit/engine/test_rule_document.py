"""The rule document: what loads, and every refusal named by its JSON path."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from regelwerk.engine.rule import load_rule, parse_duration
from regelwerk.errors import InvalidInput

EXAMPLE = {
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


def rule(**changes: Any) -> dict[str, Any]:
    """The example rule with some top-level keys replaced (None removes a key)."""
    doc = copy.deepcopy(EXAMPLE) | changes
    return {k: v for k, v in doc.items() if v is not None}


def with_actions(*actions: dict[str, Any]) -> dict[str, Any]:
    return rule(actions=list(actions))


def problems_of(doc: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        load_rule(doc)
    return [(p.path, p.reason) for p in info.value.problems]


# ---------------------------------------------------------------- what loads


def test_the_example_rule_loads() -> None:
    compiled = load_rule(EXAMPLE)

    assert compiled.rule.id == "thank-big-german-orders"
    assert [t.event for t in compiled.rule.all_triggers] == ["order.imported"]
    assert compiled.rule.mode == "sequential"
    assert compiled.rule.limit_window is None
    [action] = compiled.rule.actions
    assert (action.type, action.template, action.to, action.queue) == ("email", "thank-you", "customer", "mail")
    assert compiled.condition.source == EXAMPLE["when"]


def test_document_round_trips() -> None:
    # When a loaded rule is written back out, Then it loads again to the same document (aliases kept)
    doc = rule(
        trigger={"event": "order.status_changed", "from": "paid", "to": "shipped"},
        actions=[
            {"type": "pdf", "document": "invoice", "as": "invoice_pdf"},
            {"type": "email", "template": "shipped", "attach": ["invoice_pdf"], "delay": "15m"},
        ],
    )
    written = load_rule(doc).rule.document()

    assert written["trigger"] == {"event": "order.status_changed", "from": "paid", "to": "shipped"}
    assert written["actions"][0]["as"] == "invoice_pdf"
    assert "queue" not in written["actions"][0]
    assert "version" not in written
    assert load_rule(written).rule.document() == written


def test_defaults() -> None:
    minimal = {"id": "r1", "name": "R", "trigger": {"event": "manual"}, "actions": [{"type": "sms", "template": "t"}]}
    compiled = load_rule(minimal)

    assert compiled.rule.enabled is True
    assert compiled.rule.limit == "unlimited"
    assert compiled.rule.mode == "sequential"
    assert compiled.rule.actions[0].to == "customer"
    assert compiled.condition.matches({}) is True


def test_several_triggers() -> None:
    compiled = load_rule(rule(trigger=None, triggers=[{"event": "order.paid"}, {"event": "invoice.paid"}]))
    assert [t.event for t in compiled.rule.all_triggers] == ["order.paid", "invoice.paid"]


@pytest.mark.parametrize(
    "trigger",
    [
        {"event": "order.status_changed", "to": "shipped"},
        {"event": "order.status_changed", "from": "new"},
        {"event": "article.paid", "sku": "ESP-1000"},
        {"event": "article.invoiced", "sku": "ESP-1000"},
        {"event": "schedule", "cron": "0 9 * * MON", "time_zone": "Europe/Berlin"},
    ],
)
def test_trigger_parameters_that_fit_their_event(trigger: dict[str, Any]) -> None:
    assert load_rule(rule(trigger=trigger)).rule.trigger.event == trigger["event"]


@pytest.mark.parametrize(
    ("limit", "window"),
    [
        ("unlimited", None),
        ("once_per_customer", timedelta.max),
        ({"once_per_customer_per": "24h"}, timedelta(hours=24)),
        ({"once_per_customer_per": "7d"}, timedelta(days=7)),
        ({"once_per_customer_per": "15m"}, timedelta(minutes=15)),
    ],
)
def test_limit_forms(limit: Any, window: timedelta | None) -> None:
    assert load_rule(rule(limit=limit)).rule.limit_window == window


@pytest.mark.parametrize(
    ("delay", "ok"),
    [("1m", True), ("15m", True), ("16m", True), ("7d", True), ("90d", True), ("0m", False), ("91d", False)],
)
def test_delay_bounds(delay: str, ok: bool) -> None:
    doc = with_actions({"type": "email", "template": "t", "delay": delay})
    if ok:
        assert load_rule(doc).rule.actions[0].delay == delay
    else:
        assert problems_of(doc) == [("$.actions[0].delay", "delay must be between 1m and 90d")]


def test_recheck_needs_a_delay() -> None:
    doc = with_actions({"type": "email", "template": "t", "recheck": True})
    assert problems_of(doc) == [("$.actions[0]", "recheck applies to delayed actions: give a delay too")]


@pytest.mark.parametrize(
    ("action", "path", "reason"),
    [
        ({"type": "webhook", "url": "https://hooks.example.com/x"}, "$.actions[0].secret", "required"),
        ({"type": "webhook", "url": "ftp://x.example", "secret": {"env": "HOOK"}}, "$.actions[0].url", "https://"),
        ({"type": "webhook", "url": "https://u:p@x.example/", "secret": {"env": "HOOK"}}, "$.actions[0].url", "user"),
        ({"type": "webhook", "url": "https://x.example/", "secret": "plain"}, "$.actions[0].secret", "reference"),
        ({"type": "export", "of": "products"}, "$.actions[0].of", "orders"),
        ({"type": "export", "of": "orders", "window": "last_decade"}, "$.actions[0].window", "last_month"),
        ({"type": "create_task"}, "$.actions[0].title", "required"),
        ({"type": "create_task", "title": "x", "due": "soon"}, "$.actions[0].due", "duration"),
        ({"type": "set_order_status"}, "$.actions[0].status", "required"),
        ({"type": "notify_owner", "template": "t", "via": "fax"}, "$.actions[0].via", "email"),
        ({"type": "notify_owner", "template": "t", "via": "sms", "attach": ["x"]}, "$.actions[0]", "attachments"),
    ],
)
def test_new_actions_refuse_bad_parameters(action: dict, path: str, reason: str) -> None:
    problems = problems_of(with_actions(action))
    assert any(p == path and reason in r for p, r in problems), problems


def test_notify_owner_travels_on_the_channel_it_names() -> None:
    doc = with_actions(
        {"type": "notify_owner", "template": "t"},
        {"type": "notify_owner", "template": "t", "via": "sms"},
        {"type": "create_task", "title": "Check {{ order.number }}", "due": "2d"},
        {"type": "webhook", "url": "https://hooks.example.com/o", "secret": {"ssm": "/regelwerk/hook"}},
    )
    assert [a.queue for a in load_rule(doc).rule.actions] == ["mail", "sms", "actions", "actions"]


@pytest.mark.parametrize(("text", "expected"), [("15m", timedelta(minutes=15)), (" 24h ", timedelta(hours=24))])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["1 day", "24", "h", "1.5h", "30s", "-1h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="must be a duration such as 15m, 24h or 7d"):
        parse_duration(text)


# ---------------------------------------------------------------- refusals with paths


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (rule(owner="me"), [("$.owner", "unknown field")]),
        (rule(name=None), [("$.name", "required field is missing")]),
        (rule(id="Big Orders!"), [("$.id", "must be lower-case letters")]),
        (rule(mode="random"), [("$.mode", "Input should be 'sequential' or 'parallel'")]),
        (rule(actions=[]), [("$.actions", "at least 1 item")]),
        (rule(trigger={"event": "order.deleted"}), [("$.trigger.event", "Input should be 'order.imported'")]),
        (rule(trigger={"event": "order.imported", "when": "now"}), [("$.trigger.when", "unknown field")]),
        (with_actions({"type": "email"}), [("$.actions[0].template", "required field is missing")]),
        (with_actions({"type": "email", "template": "Thank You"}), [("$.actions[0].template", "must be lower-case")]),
        (with_actions({"type": "email", "template": "t", "bcc": "x@y.de"}), [("$.actions[0].bcc", "unknown field")]),
        (
            with_actions({"type": "email", "template": "t", "to": "nobody"}),
            [("$.actions[0].to", "String should match")],
        ),
        (
            with_actions({"type": "sms", "template": "t", "to": "0151 2345"}),
            [("$.actions[0].to", "String should match")],
        ),
        (with_actions({"type": "pdf", "document": "poem"}), [("$.actions[0].document", "Input should be 'invoice'")]),
        (with_actions({"type": "fax", "template": "t"}), [("$.actions[0]", "Input tag 'fax' found using 'type'")]),
        (with_actions({"template": "t"}), [("$.actions[0]", "Unable to extract tag using discriminator 'type'")]),
        (
            with_actions({"type": "email", "template": "t"}, {"type": "sms"}),
            [("$.actions[1].template", "required field is missing")],
        ),
        (
            with_actions({"type": "email", "template": "t", "as": "Invoice"}),
            [("$.actions[0].as", "String should match pattern")],
        ),
        (
            with_actions({"type": "email", "template": "t", "delay": "30s"}),
            [("$.actions[0].delay", "must be a duration such as 15m, 24h or 7d")],
        ),
    ],
)
def test_refusal_names_the_json_path(doc: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    problems = problems_of(doc)
    assert [path for path, _ in problems] == [path for path, _ in expected]
    for (_, reason), (_, fragment) in zip(problems, expected, strict=True):
        assert fragment in reason


def test_action_paths_have_no_discriminator_segment() -> None:
    # pydantic locates the error at actions.0.email.template; the user's document has no "email" key
    problems = problems_of(with_actions({"type": "email", "template": "ok"}, {"type": "email", "to": "customer"}))
    assert problems == [("$.actions[1].template", "required field is missing")]


@pytest.mark.parametrize(
    ("trigger", "reason"),
    [
        ({"event": "order.imported", "to": "paid"}, "'to' and 'from' only apply to order.status_changed"),
        ({"event": "order.paid", "from": "new"}, "'to' and 'from' only apply to order.status_changed"),
        ({"event": "article.paid"}, "article.paid needs a sku"),
        ({"event": "article.invoiced"}, "article.invoiced needs a sku"),
        ({"event": "order.paid", "sku": "ESP-1000"}, "'sku' only applies to article.paid and article.invoiced"),
        ({"event": "schedule"}, "a schedule trigger needs a cron expression"),
        ({"event": "order.imported", "cron": "0 9 * * *"}, "'cron' only applies to the schedule trigger"),
    ],
)
def test_trigger_parameters_that_do_not_fit(trigger: dict[str, Any], reason: str) -> None:
    assert problems_of(rule(trigger=trigger)) == [("$.trigger", reason)]


def test_trigger_parameters_in_a_triggers_list_name_the_index() -> None:
    doc = rule(trigger=None, triggers=[{"event": "order.paid"}, {"event": "article.paid"}])
    assert problems_of(doc) == [("$.triggers[1]", "article.paid needs a sku")]


@pytest.mark.parametrize(
    "changes",
    [
        {"triggers": [{"event": "order.paid"}]},  # both
        {"trigger": None},  # neither
    ],
)
def test_trigger_and_triggers_both_or_neither(changes: dict[str, Any]) -> None:
    assert problems_of(rule(**changes)) == [("$", "give either 'trigger' or 'triggers' (a list), not both or neither")]


@pytest.mark.parametrize(
    "limit", ["weekly", {"once_per_customer_per": "1 day"}, {"once_per_customer_per": "24h", "x": 1}]
)
def test_bad_limits_are_refused_at_limit(limit: Any) -> None:
    problems = problems_of(rule(limit=limit))
    assert problems
    assert all(path.startswith("$.limit") for path, _ in problems)


def test_bad_limit_duration_says_how_to_write_it() -> None:
    reasons = [reason for _, reason in problems_of(rule(limit={"once_per_customer_per": "1 day"}))]
    assert "must be a duration such as 15m, 24h or 7d" in reasons


def test_bad_limit_duration_path_is_a_json_path() -> None:
    problems = problems_of(rule(limit={"once_per_customer_per": "1 day"}))
    assert ("$.limit.once_per_customer_per", "must be a duration such as 15m, 24h or 7d") in problems
    assert not any("OncePerCustomerPer" in path for path, _ in problems)


# ---------------------------------------------------------------- outputs: as / attach


def test_attach_an_earlier_output() -> None:
    compiled = load_rule(
        with_actions(
            {"type": "pdf", "document": "invoice", "as": "invoice_pdf"},
            {"type": "email", "template": "invoice", "attach": ["invoice_pdf"]},
        )
    )
    assert compiled.rule.actions[1].attach == ["invoice_pdf"]


@pytest.mark.parametrize(
    ("actions", "reason"),
    [
        (
            [
                {"type": "email", "template": "invoice", "attach": ["invoice_pdf"]},
                {"type": "pdf", "document": "invoice", "as": "invoice_pdf"},
            ],
            ("$.actions[0].attach[0]", "no earlier action produces 'invoice_pdf'"),
        ),
        (
            [{"type": "email", "template": "invoice", "attach": ["nothing"]}],
            ("$.actions[0].attach[0]", "no earlier action produces 'nothing'"),
        ),
        (
            [
                {"type": "pdf", "document": "invoice", "as": "doc"},
                {"type": "pdf", "document": "delivery_note", "as": "doc"},
            ],
            ("$.actions[1].as", "another action already uses the name 'doc'"),
        ),
    ],
)
def test_outputs_must_be_produced_earlier_and_named_once(
    actions: list[dict[str, Any]], reason: tuple[str, str]
) -> None:
    assert problems_of(with_actions(*actions)) == [reason]


def test_attach_problem_is_located_at_the_attach_entry() -> None:
    problems = problems_of(
        with_actions(
            {"type": "pdf", "document": "invoice", "as": "invoice_pdf"},
            {"type": "email", "template": "invoice", "attach": ["invoice_pdf", "nothing"]},
        )
    )
    assert [path for path, _ in problems] == ["$.actions[1].attach[1]"]


# ---------------------------------------------------------------- conditions inside a rule


def test_condition_problems_carry_their_path_within_the_rule() -> None:
    doc = rule(
        when={
            "all": [
                {"field": "order.channel", "op": "in", "value": ["shopify"]},
                {"field": "order.total", "op": "greater", "value": 100},
            ]
        }
    )
    [(path, reason)] = problems_of(doc)
    assert path == "$.when.all[1].op"
    assert reason.startswith("unknown operator 'greater'")


def test_document_and_condition_problems_are_reported_together() -> None:
    doc = rule(
        actions=[{"type": "email"}],
        when={"field": "order.nope", "op": "eq", "value": 1},
    )
    assert problems_of(doc) == [
        ("$.actions[0].template", "required field is missing"),
        ("$.when.field", "unknown field 'order.nope'"),
    ]


@pytest.mark.parametrize("doc", [None, [], "id: x", 42])
def test_a_rule_must_be_an_object(doc: Any) -> None:
    with pytest.raises(InvalidInput, match="a rule must be an object"):
        load_rule(doc)
