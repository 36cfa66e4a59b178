"""The rule editor as HTTP sees it: the form becomes the rule document (every condition kind, every action type),
the document becomes the form again (form -> YAML -> form gives the same rule), the API's problems land at the
fields they name, a stale save is refused with a diff, a version is restored, and a viewer changes nothing."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml

from regelwerk.api.console import editor
from regelwerk.engine.rule import ACTION_TYPES, load_rule
from regelwerk.errors import InvalidInput, Problem
from regelwerk.store.rules import get_rule, save_rule, save_template
from tests.conftest import order_event
from tests.integration import test_console
from tests.integration.test_console import VIEWER, signed_in

console = test_console.console  # the fixture: a signed-in person's HTTP calls on the demo shop

ZONE = "Europe/Berlin"


def form(**fields: Any) -> editor.Form:
    """A posted form: field names with '_' for '-' where they are names of the document (c_0_op -> c-0-op)."""
    return {k.replace("__", "-"): v if isinstance(v, list) else [v] for k, v in fields.items()}


BASE = {"id": ["r"], "name": ["R"], "enabled": ["on"], "triggers-0-event": ["order.paid"], "limit": ["unlimited"]}
EMAIL = {"actions-0-type": ["email"], "actions-0-template": ["thank-you"], "actions-0-to": ["customer"]}


def leaf_doc(leaf: dict[str, list[str]]) -> Any:
    doc = editor.document_from_form(BASE | EMAIL | {"c-kind": ["all"], "c-0-kind": ["leaf"]} | leaf, ZONE)
    return doc["when"]["all"][0]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (  # money: amount and currency
            {"c-0-field": ["order.total"], "c-0-op": ["gt"], "c-0-value": ["50"], "c-0-currency": ["EUR"]},
            {"field": "order.total", "op": "gt", "value": {"amount": "50", "currency": "EUR"}},
        ),
        (  # a country field: the multi-select's codes
            {"c-0-field": ["order.shipping_address.country"], "c-0-op": ["in"], "c-0-countries": ["AT", "CH"]},
            {"field": "order.shipping_address.country", "op": "in", "value": ["AT", "CH"]},
        ),
        (  # a date-time picked in the shop's time zone, stored with its offset
            {"c-0-field": ["order.created_at"], "c-0-op": ["gte"], "c-0-value": ["2026-11-01T00:00"]},
            {"field": "order.created_at", "op": "gte", "value": "2026-11-01T00:00:00+01:00"},
        ),
        (  # boolean: yes / no
            {"c-0-field": ["event.refund.full"], "c-0-op": ["eq"], "c-0-value": ["false"]},
            {"field": "event.refund.full", "op": "eq", "value": False},
        ),
        (  # integer: a whole number
            {"c-0-field": ["customer.order_count"], "c-0-op": ["gte"], "c-0-value": ["3"]},
            {"field": "customer.order_count", "op": "gte", "value": 3},
        ),
        (  # decimal: kept as text, as the engine wants amounts
            {"c-0-field": ["order.item_count"], "c-0-op": ["between"], "c-0-low": ["2"], "c-0-high": ["5.5"]},
            {"field": "order.item_count", "op": "between", "value": ["2", "5.5"]},
        ),
        (  # string, a list of them
            {"c-0-field": ["order.channel"], "c-0-op": ["in"], "c-0-value": ["shopify, woocommerce"]},
            {"field": "order.channel", "op": "in", "value": ["shopify", "woocommerce"]},
        ),
        (  # list: contains
            {"c-0-field": ["order.skus"], "c-0-op": ["contains"], "c-0-value": ["ESP-1000"]},
            {"field": "order.skus", "op": "contains", "value": "ESP-1000"},
        ),
        (  # no value
            {"c-0-field": ["order.paid_at"], "c-0-op": ["exists"], "c-0-value": ["ignored"]},
            {"field": "order.paid_at", "op": "exists"},
        ),
    ],
)
def test_each_kind_of_condition_becomes_its_leaf_and_the_engine_accepts_it(fields, expected):
    leaf = leaf_doc(fields)

    assert leaf == expected
    load_rule(
        {
            "id": "r",
            "name": "R",
            "trigger": {"event": "order.paid"},
            "when": leaf,
            "actions": [{"type": "sms", "template": "x"}],
        }
    )


def test_groups_nest_all_any_and_not():
    fields = BASE | EMAIL | {
        "c-kind": ["any"],
        "c-0-kind": ["leaf"], "c-0-field": ["order.channel"], "c-0-op": ["eq"], "c-0-value": ["shopify"],
        "c-1-kind": ["all"],
        "c-1-0-kind": ["not"],
        "c-1-0-0-kind": ["leaf"], "c-1-0-0-field": ["customer.tags"], "c-1-0-0-op": ["contains"],
        "c-1-0-0-value": ["vip"],
        "c-1-1-kind": ["leaf"], "c-1-1-field": ["order.total"], "c-1-1-op": ["lt"], "c-1-1-value": ["10"],
        "c-1-1-currency": ["EUR"],
    }  # fmt: skip

    when = editor.document_from_form(fields, ZONE)["when"]

    assert when == {
        "any": [
            {"field": "order.channel", "op": "eq", "value": "shopify"},
            {
                "all": [
                    {"not": {"field": "customer.tags", "op": "contains", "value": "vip"}},
                    {"field": "order.total", "op": "lt", "value": {"amount": "10", "currency": "EUR"}},
                ]
            },
        ]
    }


ACTION_FORMS = {
    "email": ({"template": "thank-you", "to": "other", "to_other": "team@shop.example", "attach": "invoice_pdf"},
              {"template": "thank-you", "to": "team@shop.example", "attach": ["invoice_pdf"]}),
    "sms": ({"template": "austria-sms", "to": "customer"}, {"template": "austria-sms", "to": "customer"}),
    "pdf": ({"document": "invoice", "as": "invoice_pdf"}, {"document": "invoice", "as": "invoice_pdf"}),
    "notify_owner": ({"via": "sms", "template": "big-order"}, {"via": "sms", "template": "big-order"}),
    "create_task": ({"title": "Check {{ order.number }}", "due": "2d", "assignee": "eva"},
                    {"title": "Check {{ order.number }}", "due": "2d", "assignee": "eva"}),
    "set_order_status": ({"status": "on_hold"}, {"status": "on_hold"}),
    "webhook": ({"url": "https://hooks.example.com/a", "secret_place": "ssm", "secret_name": "/rw/hook"},
                {"url": "https://hooks.example.com/a", "secret": {"ssm": "/rw/hook"}}),
    "export": ({"of": "orders", "window": "last_month"}, {"of": "orders", "window": "last_month"}),
    "set_customer_language": ({"source": "shipping_country", "fallback": "en"},
                              {"source": "shipping_country", "fallback": "en"}),
    "tag_customer": ({"field": "tags", "add": "vip, regular", "remove": "lead", "delay": "10m"},
                     {"field": "tags", "add": ["vip", "regular"], "remove": ["lead"]}),
}  # fmt: skip


def test_every_action_type_has_a_form_and_reads_back_as_its_document():
    assert set(ACTION_FORMS) == set(ACTION_TYPES) == set(editor.ACTION_FIELDS)
    fields = dict(BASE)
    for i, (kind, (given, _)) in enumerate(ACTION_FORMS.items()):
        fields[f"actions-{i}-type"] = [kind]
        fields |= {f"actions-{i}-{k}": [v] for k, v in given.items()}
    fields |= {"actions-1-delay": ["7d"], "actions-1-recheck": ["on"]}  # the SMS waits a week, then checks again

    actions = editor.document_from_form(fields, ZONE)["actions"]

    expected = [{"type": kind} | want for kind, (_, want) in ACTION_FORMS.items()]
    expected[1] |= {"delay": "7d", "recheck": True}
    expected[9] |= {"delay": "10m"}  # tag_customer's delay is read, and the engine refuses it (inline)
    assert actions == expected
    with pytest.raises(InvalidInput) as refused:
        load_rule({"id": "r", "name": "R", "trigger": {"event": "order.paid"}, "actions": actions})
    # the e-mail attaches an output made after it; tag_customer applies at once, with no delay
    assert [p.path for p in refused.value.problems] == ["$.actions[0].attach[0]", "$.actions[9].delay"]


@pytest.mark.parametrize(
    ("path", "slot"),
    [
        ("$.name", "name"),
        ("$.trigger.to", "triggers-0-to"),
        ("$.trigger", "triggers-0"),
        ("$.triggers[1].event", "triggers-1-event"),
        ("$.when.all[0].value", "c-0-value"),
        ("$.when.all[1].any[0].not.field", "c-1-0-0-field"),
        ("$.when.any[2].value[1]", "c-2-value"),
        ("$.when", "c"),
        ("$.actions[1].template", "actions-1-template"),
        ("$.actions[0].attach[0]", "actions-0-attach"),
        ("$.actions[2].unknown_thing", "actions-2"),
        ("$.rule.actions[0].delay", "actions-0-delay"),  # a dry run names the rule under $.rule
        ("$.limit.once_per_customer_per", "limit"),
        ("$", ""),
    ],
)
def test_a_problem_path_names_its_form_field(path, slot):
    assert editor.slot_of(path) == slot


# ------------------------------------------------------------------ through HTTP


class Fields(HTMLParser):
    """The fields a browser would send for a form: inputs, checked boxes, selected options, textareas."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self._option: list[str] | None = None  # the text of a selected option without a value attribute
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and "name" in a and (a.get("type") != "checkbox" or "checked" in a):
            self.fields.setdefault(a["name"], []).append("on" if a.get("type") == "checkbox" else a.get("value") or "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            if "value" in a:
                self.fields.setdefault(self._select, []).append(a["value"] or "")
            else:
                self._option = []
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = [""]

    def handle_data(self, data):
        if self._option is not None:
            self._option.append(data)
        if self._textarea:
            self.fields[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select:
            self.fields.setdefault(self._select, []).append("".join(self._option))
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def shown_form(page: str) -> editor.Form:
    parser = Fields("rule-form")
    parser.feed(page)
    return parser.fields


def post(console, cookie: str, csrf: str, fields: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    from urllib.parse import urlencode

    body = urlencode({"csrf": csrf} | fields, doseq=True)
    hdrs = {"Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    status, headers, raw = console.shop.stack.invoke_http("POST", "/console/demo/rules/editor", hdrs, body)
    return status, headers, raw.decode()


RICH = {
    "id": "rich",
    "name": "Everything the form can say",
    "description": "A rule with <b>markup</b> in its description",
    "enabled": True,
    "triggers": [{"event": "order.status_changed", "from": "pending", "to": "paid"}, {"event": "order.paid"}],
    "when": {
        "all": [
            {"field": "order.shipping_address.country", "op": "in", "value": ["AT", "CH"]},
            {"field": "order.total", "op": "gt", "value": {"amount": "50", "currency": "EUR"}},
            {"field": "order.created_at", "op": "gte", "value": "2026-11-01T00:00:00+01:00"},
            {
                "any": [
                    {"field": "customer.order_count", "op": "gte", "value": 2},
                    {"not": {"field": "customer.tags", "op": "contains", "value": "blocked"}},
                    {"field": "order.item_count", "op": "between", "value": ["1", "9"]},
                    {"field": "order.paid_at", "op": "exists"},
                    {"field": "event.refund.full", "op": "eq", "value": True},
                ]
            },
        ]
    },
    "limit": {"once_per_customer_per": "24h"},
    "mode": "parallel",
    "actions": [
        {"type": "pdf", "document": "invoice", "as": "invoice_pdf"},
        {"type": "email", "template": "thank-you", "to": "customer", "attach": ["invoice_pdf"]},
        {"type": "sms", "template": "thank-you", "to": "+436641234567", "delay": "7d", "recheck": True},
        {"type": "webhook", "url": "https://hooks.example.com/x", "secret": {"env": "HOOK_SECRET"}},
        {"type": "tag_customer", "field": "groups", "add": ["austria"]},
    ],
}


def test_form_to_yaml_to_form_gives_the_same_rule(console):
    cookie, csrf = signed_in(console)

    # Given the rule written as YAML and applied to the form
    status, _, page = post(console, cookie, csrf, {"do": "apply-yaml", "yaml": yaml.safe_dump(RICH)})
    assert status == 200
    # When the form the browser shows is read back, and its YAML too
    from_form = editor.document_from_form(shown_form(page), ZONE)
    yaml_text = re.search(r'<textarea id="yaml-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)

    # Then both are the rule, and the form posted again says the same
    assert from_form == RICH
    assert yaml.safe_load(html.unescape(yaml_text)) == RICH
    status, _, again = post(console, cookie, csrf, shown_form(page) | {"do": "refresh"})
    assert editor.document_from_form(shown_form(again), ZONE) == RICH
    assert "&lt;b&gt;markup&lt;/b&gt;" in page  # escaped in the form and the YAML alike
    load_rule(RICH)  # and the engine takes it as it is


def test_adding_and_removing_rows_happens_on_the_server(console):
    cookie, csrf = signed_in(console)
    status, _, page = post(console, cookie, csrf, shown_form_of_new(console, cookie) | {"do": "add-leaf:c"})
    fields = shown_form(page)
    assert fields["c-0-field"] == ["order.total"] and fields["c-0-currency"] == ["EUR"]

    status, _, page = post(console, cookie, csrf, fields | {"do": "add-any:c"})
    status, _, page = post(console, cookie, csrf, shown_form(page) | {"do": "add-leaf:c-1"})
    fields = shown_form(page)
    assert fields["c-1-kind"] == ["any"] and fields["c-1-0-kind"] == ["leaf"]

    status, _, page = post(console, cookie, csrf, fields | {"do": "remove:c-0"})
    fields = shown_form(page)
    assert fields["c-0-kind"] == ["any"] and "c-1-kind" not in fields
    status, _, page = post(console, cookie, csrf, fields | {"do": "add-action:sms"})
    assert shown_form(page)["actions-0-type"] == ["sms"]


def shown_form_of_new(console, cookie: str) -> editor.Form:
    status, _, page = console("GET", "/console/demo/rules/new", cookie=cookie)
    assert status == 200
    return shown_form(page)


def austrian_rule(template: str = "austria-sms") -> dict[str, list[str]]:
    return BASE | {
        "id": ["austria-sms"],
        "name": ["Austrian orders over 50 €: an SMS"],
        "c-kind": ["all"],
        "c-0-kind": ["leaf"], "c-0-field": ["order.shipping_address.country"], "c-0-op": ["in"],
        "c-0-countries": ["AT"],
        "c-1-kind": ["leaf"], "c-1-field": ["order.total"], "c-1-op": ["gt"], "c-1-value": ["50"],
        "c-1-currency": ["EUR"],
        "actions-0-type": ["sms"], "actions-0-template": [template], "actions-0-to": ["customer"],
    }  # fmt: skip


def test_a_problem_is_shown_at_its_field_and_nothing_is_saved(console):
    cookie, csrf = signed_in(console)
    fields = austrian_rule(template="no-such-template") | {"c-1-value": ["fifty"], "original": [""], "version": ["0"]}

    status, _, page = post(console, cookie, csrf, fields | {"do": "save"})
    page = html.unescape(page)

    assert status == 422
    value_error = re.search(r'<p class="field-error" id="err-c-1-value">([^<]*)</p>', page)
    assert value_error and "'fifty' is not a number" in value_error.group(1)
    assert 'id="f-c-1-value"' in page and re.search(r'id="f-c-1-value"[^>]*aria-invalid="true"', page)
    assert 'href="#err-c-1-value"' in page  # the summary at the top links to it
    # the template problem comes from save_rule's own check, once the document is valid
    status, _, page = post(console, cookie, csrf, fields | {"c-1-value": ["50"], "do": "save"})
    assert status == 422 and re.search(r'id="err-actions-0-template">[^<]*no template', page)
    with pytest.raises(Exception, match="unknown rule"):
        get_rule("demo", "austria-sms")


def test_a_stale_save_is_refused_with_the_difference(console):
    cookie, csrf = signed_in(console)
    status, _, page = console("GET", "/console/demo/rules/thank-you/edit", cookie=cookie)
    opened = shown_form(page)
    assert opened["version"] == ["1"]
    # someone else changes the rule meanwhile
    stored = get_rule("demo", "thank-you").document()
    save_rule("demo", stored | {"name": "Renamed by a colleague"})

    status, _, page = post(console, cookie, csrf, opened | {"name": ["My new name"], "do": "save"})

    assert status == 409
    assert "version 2" in page and "Nichts wurde gespeichert" in page
    assert "-name: Renamed by a colleague" in page and "+name: My new name" in page
    assert get_rule("demo", "thank-you").name == "Renamed by a colleague"
    # saving over it is a choice the person makes, named with the version they saw
    status, headers, _ = post(console, cookie, csrf, opened | {"name": ["My new name"], "do": "save-over:2"})
    assert status == 303 and headers["Location"].endswith("/console/demo/rules/thank-you?notice=saved")
    assert get_rule("demo", "thank-you").name == "My new name" and get_rule("demo", "thank-you").version == 3


def test_a_new_rule_whose_id_exists_is_refused(console):
    cookie, csrf = signed_in(console)
    fields = (
        shown_form_of_new(console, cookie)
        | {"id": ["thank-you"], "name": ["Mine"]}
        | {k: v for k, v in austrian_rule().items() if k.startswith("actions")}
    )
    save_template("demo", "austria-sms", "de", {"text": "Danke"})

    status, _, page = post(console, cookie, csrf, fields | {"do": "save"})

    assert status == 409 and "Eine Regel mit dieser Kennung gibt es schon" in page
    assert get_rule("demo", "thank-you").version == 1


def test_the_owner_saves_a_rule_tests_and_simulates_it(console):
    cookie, csrf = signed_in(console)
    save_template("demo", "austria-sms", "de", {"text": "Danke, {{ customer.first_name }}!"})
    status, _ = console.shop.post(order_event(1))
    assert status == 202
    console.shop.drain()
    fields = austrian_rule() | {"original": [""], "version": ["0"]}

    status, _, page = post(console, cookie, csrf, fields | {"do": "test", "test_order": "1001"})
    assert status == 200 and "nicht ausgelöst" in page  # 1001 goes to Germany
    assert re.search(
        r"order.shipping_address.country</code> ist eines von <code>AT</code>\s*— vorgefunden <code>DE", page
    )
    status, _, page = post(console, cookie, csrf, fields | {"do": "test", "test_order": "anna.mueller@example.de"})
    assert status == 200 and "Test mit Bestellung anna.mueller@example.de" in page
    status, _, page = post(console, cookie, csrf, fields | {"do": "simulate"})
    assert status == 200 and "Betrachtete Bestellungen" in page

    status, headers, _ = post(console, cookie, csrf, fields | {"do": "save"})
    assert status == 303
    saved = get_rule("demo", "austria-sms")
    assert saved.enabled and saved.when == {
        "all": [
            {"field": "order.shipping_address.country", "op": "in", "value": ["AT"]},
            {"field": "order.total", "op": "gt", "value": {"amount": "50", "currency": "EUR"}},
        ]
    }


def test_restore_saves_an_old_version_as_the_newest(console):
    cookie, csrf = signed_in(console)
    first = get_rule("demo", "thank-you").document()
    save_rule("demo", first | {"name": "Second name"})
    status, _, page = console("GET", "/console/demo/rules/thank-you?version=1", cookie=cookie)
    assert "-name: Thank every new order" in page and "+name: Second name" in page  # the version against the live one

    status, headers, _ = console.shop.stack.invoke_http(
        "POST",
        "/console/demo/rules/thank-you/restore",
        {"Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        f"csrf={csrf}&version=1",
    )

    assert status == 303
    rule = get_rule("demo", "thank-you")
    assert rule.version == 3 and rule.document() == first


def test_a_viewer_sees_the_editor_read_only_and_every_post_is_403(console):
    cookie, csrf = signed_in(console, VIEWER)
    status, _, page = console("GET", "/console/demo/rules/thank-you/edit", cookie=cookie)
    assert status == 200 and '<fieldset class="plain" disabled>' in page
    assert 'value="save"' not in page and 'value="apply-yaml"' not in page

    for do in ("save", "test", "simulate", "apply-yaml", "refresh"):
        status, _, _ = post(console, cookie, csrf, shown_form(page) | {"do": do, "name": "Viewer was here"})
        assert status == 403, do
    assert get_rule("demo", "thank-you").version == 1


def test_problems_without_a_field_stay_in_the_summary():
    slots = editor.problems_by_slot([Problem("$", "give either 'trigger' or 'triggers'"), Problem("$.name", "x")])
    assert slots == {"": ["give either 'trigger' or 'triggers'"], "name": ["x"]}


def test_yaml_that_cannot_be_read_is_said_and_the_form_stays(console):
    cookie, csrf = signed_in(console)
    fields = austrian_rule()

    status, _, page = post(console, cookie, csrf, fields | {"do": "apply-yaml", "yaml": "id: [unclosed"})

    assert status == 422 and "the YAML cannot be read" in page
    assert shown_form(page)["c-0-countries"] == ["AT"]  # the form as it was
    assert "id: [unclosed" in page  # and the text as typed, to mend
    status, _, page = post(console, cookie, csrf, fields | {"do": "apply-yaml", "yaml": "- a list"})
    assert status == 422 and "the YAML must be a rule" in page


def test_a_new_field_gets_an_operator_its_kind_allows():
    doc = {"when": {"all": [{"field": "order.channel", "op": "gt", "value": {"amount": "50", "currency": "EUR"}}]}}

    editor.change_shape(doc, "refit:c-0", "EUR")

    assert doc["when"]["all"][0] == {"field": "order.channel", "op": "eq"}
    kept = {"when": {"all": [{"field": "order.total", "op": "gt", "value": "50"}]}}
    assert editor.change_shape(kept, "refit:c-0", "EUR") == {
        "when": {"all": [{"field": "order.total", "op": "gt", "value": "50"}]}
    }
    assert editor.operators_for("order.skus") == ("contains", "not_contains", "exists", "not_exists", "changed")
    assert "changed_to" not in editor.operators_for("customer.order_count")  # no previous customer
