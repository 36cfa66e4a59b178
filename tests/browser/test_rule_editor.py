"""The rule editor in Chromium: the owner builds "when an order from Austria over 50 € is paid, send an SMS to the
customer" in the form alone (the YAML beside it follows), tests it on order AT-1, saves it, and the next Austrian
order fires it: the run explains it and the SMS is in the outbox. A viewer cannot save, a stale save is refused
with the difference, and a problem is shown at its field. axe-core on every editor page, screenshots in
outbox/console/."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import VIEWER, screenshot, serious_violations, sign_in
from tests.conftest import order_event, sent_sms

pytestmark = pytest.mark.browser

SMS_TEMPLATE = "Danke, {{ customer.first_name }}! Ihre Bestellung {{ order.number }} ist bezahlt."


def look(page, name: str) -> None:
    assert serious_violations(page) == []
    assert [e for e in page.errors if "Content Security Policy" in e or "integrity" in e] == []
    screenshot(page, name)


def settle(page) -> None:
    """Wait until htmx has no request in flight and has swapped and settled what came back."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def austrian_order(order_id: str, number: str) -> dict:
    """Demo order 1001, shipped to Vienna, paid, 89.90 €, with an Austrian mobile number."""
    phone = "0664 1234567"
    body = order_event(
        1,
        id=order_id,
        number=number,
        total="89.90",
        subtotal="85.00",
        shipping_total="4.90",
        tax_total="14.98",
        customer={"id": f"c-{order_id}", "email": f"lena.{number.lower()}@example.at", "first_name": "Lena",
                  "last_name": "Huber", "phone": phone, "language": "de"},
        shipping_address={"name": "Lena Huber", "street": "Mariahilfer Straße", "house_number": "12", "zip": "1070",
                          "city": "Wien", "country": "AT", "phone": phone},
        line_items=[{"sku": "ESP-1000", "name": "Espresso Morgenrot, 1 kg Bohnen", "quantity": 1,
                     "unit_price": "85.00", "tax_rate": "20"}],
    )  # fmt: skip
    body["event_id"] = f"at-order-{order_id}"
    return body


@pytest.fixture
def austria(console_shop):
    """The SMS template and an Austrian order AT-1, before the rule exists."""
    from regelwerk.store.rules import save_template

    save_template("demo", "austria-sms", "de", {"text": SMS_TEMPLATE})
    status, _ = console_shop.post(austrian_order("88001", "AT-1"))
    assert status == 202
    console_shop.drain()
    return console_shop


def test_the_owner_builds_tests_and_saves_the_austrian_sms_rule_without_yaml(page, base_url, austria):
    from regelwerk.store.rules import get_rule

    sign_in(page, base_url)
    page.click("nav.sections >> text=Regeln")
    started = time.perf_counter()
    page.click("#new-rule")
    page.wait_for_load_state("load")
    assert time.perf_counter() - started < 1.0
    assert page.locator("h1").inner_text() == "Neue Regel"

    # the rule's name, switched on, paid orders
    page.fill("#f-id", "austria-sms")
    page.fill("#f-name", "SMS bei bezahlten Bestellungen aus Österreich über 50 €")
    page.check("#f-enabled")
    assert page.locator("#f-triggers-0-event").input_value() == "order.paid"

    # condition 1: the shipping country is Austria, picked by its name
    page.click("button[value='add-leaf:c']")
    settle(page)
    page.select_option("#f-c-0-field", "order.shipping_address.country")
    settle(page)
    page.select_option("#f-c-0-op", "in")
    settle(page)
    assert "ist eines von" in page.locator("#f-c-0-op option:checked").inner_text()
    page.select_option("#f-c-0-countries", label="Österreich (AT)")

    # condition 2: the total is more than 50 EUR (money: an amount and a currency)
    page.click("button[value='add-leaf:c']")
    settle(page)
    assert page.locator("#f-c-0-countries option:checked").all_inner_texts() == ["Österreich (AT)"]
    assert page.locator("#f-c-1-field").input_value() == "order.total"
    page.select_option("#f-c-1-op", "gt")
    settle(page)
    page.fill("#f-c-1-value", "50")
    assert page.locator("#f-c-1-currency").input_value() == "EUR"

    # the action: an SMS to the customer with the shop's template
    page.click("button[value='add-action:sms']")
    settle(page)
    page.select_option("#f-actions-0-template", "austria-sms")
    assert page.locator("#f-actions-0-to").input_value() == "customer"
    settle(page)

    # the YAML beside the form followed every change, untouched by the owner
    yaml_text = page.locator("#yaml-text").input_value()
    assert "field: order.shipping_address.country" in yaml_text and "- AT" in yaml_text
    assert "amount: '50'" in yaml_text and "template: austria-sms" in yaml_text

    # what it would have done in the last 30 days: AT-1 is among the orders it would have fired for
    page.click("button[value=simulate]")
    settle(page)
    simulation = page.locator("#results").inner_text()
    assert "Betrachtete Bestellungen" in simulation and "AT-1" in simulation
    assert "Danke, Lena! Ihre Bestellung AT-1 ist bezahlt." in simulation  # a sample, rendered
    assert "order.shipping_address.country in ['AT'] was false" in simulation  # why the German ones did not

    # test it with order AT-1: it fires, each condition with what it saw, and the SMS as it would go out
    page.fill("#f-test_order", "AT-1")
    page.click("button[value=test]")
    settle(page)
    results = page.locator("#results")
    verdict = results.locator("p.verdict").inner_text()
    assert verdict.startswith("ausgelöst"), verdict
    conditions = results.locator("li.cond.met").all_inner_texts()
    assert any("vorgefunden AT" in c for c in conditions) and any("89.90" in c for c in conditions)
    assert "Danke, Lena! Ihre Bestellung AT-1 ist bezahlt." in results.locator("pre.message-text").inner_text()
    assert "GSM-7" in results.inner_text() or "gsm" in results.inner_text().lower()
    look(page, "rule-editor")  # axe last: what it leaves on the page is not for htmx to swap

    # save: the rule is stored as the form said
    page.click("#save")
    page.wait_for_url(re.compile(r".*/console/demo/rules/austria-sms\?notice=saved"))
    assert "gespeichert" in page.locator("p.note").inner_text()
    rule = get_rule("demo", "austria-sms")
    assert rule.enabled and [t.event for t in rule.all_triggers] == ["order.paid"]
    assert rule.when == {
        "all": [
            {"field": "order.shipping_address.country", "op": "in", "value": ["AT"]},
            {"field": "order.total", "op": "gt", "value": {"amount": "50", "currency": "EUR"}},
        ]
    }

    # a matching order comes in through the ingest API
    before = len(sent_sms())
    status, _ = austria.post(austrian_order("88002", "AT-2"))
    assert status == 202
    austria.drain()

    # the run explains that the rule fired
    page.goto(f"{base_url}/console/demo/runs?rule=austria-sms&fired=true")
    rows = page.locator("table tbody tr", has_text="AT-2")
    assert rows.count() == 1
    rows.first.locator("a").first.click()
    outcome = page.locator("article.rule-outcome", has_text="austria-sms")
    assert outcome.count() == 1 and "fired" in outcome.get_attribute("class")
    assert "ausgelöst" in outcome.locator("h3").inner_text() and outcome.locator("li.cond.met").count() == 3
    # and the SMS landed in the outbox, to the Austrian number
    texts = [m for m in sent_sms()[before:] if "Ihre Bestellung AT-2 ist bezahlt" in str(m)]
    assert len(texts) == 1 and "+43664" in str(texts[0]).replace(" ", "")

    # the editor in English, opened from the rule's page
    page.goto(f"{base_url}/console/demo/rules/austria-sms")
    page.click("button[lang=en]")
    page.click("#edit-rule")
    assert page.locator("h1").inner_text().startswith("Edit rule")
    assert page.locator("#f-c-0-countries option:checked").inner_text() == "Austria (AT)"
    look(page, "rule-editor-en")


def test_a_viewer_gets_no_save_button_and_a_forged_post_is_403(page, base_url):
    from regelwerk.store.rules import get_rule

    sign_in(page, base_url, VIEWER)
    page.goto(f"{base_url}/console/demo/rules/thank-you/edit")
    assert page.locator("#save").count() == 0 and page.locator("button[value=apply-yaml]").count() == 0
    assert page.locator("#f-name").is_disabled()
    look(page, "rule-editor-viewer")

    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    forged = page.request.post(
        f"{base_url}/console/demo/rules/editor",
        form={"csrf": csrf, "do": "save", "original": "thank-you", "version": "1", "id": "thank-you", "name": "x",
              "triggers-0-event": "order.paid", "actions-0-type": "email", "actions-0-template": "thank-you"},
    )  # fmt: skip
    assert forged.status == 403
    assert get_rule("demo", "thank-you").name != "x"


def test_a_stale_save_is_refused_with_the_difference(page, base_url):
    from regelwerk.store.rules import get_rule, save_rule

    sign_in(page, base_url)
    page.goto(f"{base_url}/console/demo/rules/thank-you/edit")
    # a colleague saves the rule meanwhile
    stored = get_rule("demo", "thank-you")
    save_rule("demo", stored.document() | {"name": "Renamed by a colleague"})

    page.fill("#f-name", "Thank you, my way")
    page.click("#save")

    stale = page.locator("div.stale")
    assert "Nichts wurde gespeichert" in stale.inner_text() and f"Version {stored.version + 1}" in stale.inner_text()
    diff = stale.locator("pre.diff").inner_text()
    assert "-name: Renamed by a colleague" in diff and "+name: Thank you, my way" in diff
    assert get_rule("demo", "thank-you").name == "Renamed by a colleague"
    look(page, "rule-editor-stale")


def test_a_problem_is_shown_at_its_field(page, base_url):
    from regelwerk.errors import NotFound
    from regelwerk.store.rules import get_rule

    sign_in(page, base_url)
    page.goto(f"{base_url}/console/demo/rules/new")
    page.fill("#f-id", "half-done")
    page.fill("#f-name", "Half done")
    page.click("button[value='add-leaf:c']")
    settle(page)
    page.select_option("#f-c-0-op", "gt")  # the amount is left empty, and there is no action
    settle(page)

    page.click("#save")

    assert "Nichts wurde gespeichert" in page.locator("#problems").inner_text()
    assert "is not a number" in page.locator("#err-c-0-value").inner_text()
    assert page.locator("#f-c-0-value").get_attribute("aria-invalid") == "true"
    assert page.locator("#err-actions").is_visible()
    page.click("#problems a[href='#err-c-0-value']")
    with pytest.raises(NotFound):
        get_rule("demo", "half-done")
    look(page, "rule-editor-problems")


def test_yaml_edited_beside_the_form_is_applied_to_it(page, base_url):
    sign_in(page, base_url)
    page.goto(f"{base_url}/console/demo/rules/thank-you/edit")
    text = page.locator("#yaml-text").input_value()
    assert "when:" not in text  # thank-you has no conditions: the owner writes one, and a delay
    condition = "when:\n  all:\n  - field: order.shipping_address.country\n    op: in\n    value: [AT, CH]\n"
    edited = text.replace("limit: unlimited", condition + "limit: unlimited")
    page.fill("#yaml-text", edited.replace("template: thank-you", "template: thank-you\n  delay: 7d"))

    page.click("button[value=apply-yaml]")
    settle(page)

    chosen = page.locator("#f-c-0-countries option:checked").all_inner_texts()
    assert chosen == ["Österreich (AT)", "Schweiz (CH)"]
    assert page.locator("#f-actions-0-delay").input_value() == "7d"
    assert "delay: 7d" in page.locator("#yaml-text").input_value()
    # and a change of the form goes back into the YAML
    page.select_option("#f-c-0-countries", ["AT"])
    settle(page)
    assert "- CH" not in page.locator("#yaml-text").input_value()
