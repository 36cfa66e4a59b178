"""The console as a shop owner (and a viewer) uses it in Chromium: sign in, the overview, why a rule did or did
not fire for order 1001, an order's timeline, a customer named with markup shown as text, dead letters sent
again, the role, CSRF and sign-out; axe-core on every page; a screenshot of each under outbox/console/."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import VIEWER, XSS, screenshot, serious_violations, sign_in

pytestmark = pytest.mark.browser


def look(page, name: str) -> None:
    """What every page must be: no serious or critical axe violation, no script error, a screenshot."""
    assert serious_violations(page) == []
    assert [e for e in page.errors if "Content Security Policy" in e or "integrity" in e] == []
    screenshot(page, name)


def test_the_owner_signs_in_and_sees_the_overview(page, base_url):
    page.goto(f"{base_url}/console")
    assert page.url == f"{base_url}/console/sign-in"
    look(page, "sign-in")

    seconds = sign_in(page, base_url)

    assert seconds < 1.0, f"the overview took {seconds:.2f} s"
    assert page.locator("h1").inner_text() == "Übersicht"  # the shop's locale is de_DE
    cards = page.locator("figure.card")
    assert cards.count() == 4 and page.locator("svg.chart").count() == 4
    assert "Ereignisse" in cards.first.inner_text()
    attention = page.locator("section.attention").inner_text()
    assert "1 unzustellbare Aktion(en)" in attention  # the dead-lettered e-mail
    assert page.evaluate("typeof htmx") == "object"  # the vendored script loaded under the CSP, integrity checked
    look(page, "overview")

    page.click("button[lang=en]")  # switch to English
    assert page.locator("h1").inner_text() == "Overview"


def test_why_a_rule_did_or_did_not_fire_for_order_1001(page, base_url):
    sign_in(page, base_url)
    page.click("nav.sections >> text=Läufe")
    page.fill("input[name=order]", "1001")
    page.select_option("select[name=rule]", "invoice-unpaid-orders")
    page.click("form.filters button")
    # two channels both have an order 1001: the owner picks the demo shop's own
    choice = page.locator("ul.choices a", has_text="9007199254740993")
    choice.click()
    rows = page.locator("table tbody tr")
    assert rows.count() >= 1 and "1001" in rows.first.inner_text()
    look(page, "runs")

    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/console/demo/runs/evt_.*"))
    outcome = page.locator("article.rule-outcome", has_text="invoice-unpaid-orders").first
    text = outcome.inner_text()
    assert "nicht ausgelöst" in text and "Warum:" in text
    # condition by condition, with the value the engine saw
    assert outcome.locator("li.cond.unmet").count() >= 1 and "vorgefunden" in text
    fired = page.locator("article.rule-outcome.fired").first
    assert "ausgelöst" in fired.inner_text() and fired.locator("ul.actions li").count() >= 1
    look(page, "run")


def test_order_1001_with_its_timeline(page, base_url):
    sign_in(page, base_url)
    page.click("nav.sections >> text=Bestellungen")
    page.fill("input[name=number]", "1001")
    page.click("form.filters button")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2  # one per channel
    look(page, "orders")

    page.click("a[href$='/orders/9007199254740993']")
    assert page.locator("h1").inner_text() == "Bestellung 1001"
    timeline = page.locator("ol.timeline li")
    events = timeline.all_inner_texts()
    assert any("order.imported" in e for e in events) and any("order.shipped" in e for e in events)
    assert page.locator("section[aria-labelledby=messages] li").count() >= 2  # the thank-you and invoice e-mails
    assert "€" in page.locator("dl.facts").inner_text()
    look(page, "order")


def test_a_customer_named_with_markup_shows_as_text(page, base_url):
    sign_in(page, base_url)
    page.click("nav.sections >> text=Kunden")
    cell = page.locator("td.customer-name", has_text=XSS)
    assert cell.is_visible()
    assert page.locator("img[src=x]").count() == 0
    look(page, "customers")

    cell.locator("a").click()
    assert XSS in page.locator("h1").inner_text()
    page.locator("a", has_text="3001").click()
    assert XSS in page.locator("dd.customer-name").inner_text()
    assert page.locator("img[src=x]").count() == 0
    assert page.dialogs == []  # no alert() ran
    look(page, "order-xss")


def test_the_owner_sends_a_dead_letter_again(page, base_url):
    sign_in(page, base_url)
    page.click("nav.sections >> text=Unzustellbares")
    row = page.locator("table tbody tr", has_text="broken-mail")
    assert row.count() == 1 and "missing-template" in row.inner_text()  # the reason, as the handler gave it
    look(page, "dead-letters")

    row.locator("button").click()
    assert "1 Aktion(en) zurück in ihre Warteschlange gestellt." in page.locator("p.note").inner_text()


def test_the_owner_switches_a_rule_off_with_htmx(page, base_url):
    from regelwerk.store.rules import get_rule

    sign_in(page, base_url)
    page.click("nav.sections >> text=Regeln")
    row = page.locator("tr#rule-thank-you")
    assert "An" in row.locator(".switch").inner_text()
    look(page, "rules")

    row.locator("button").click()
    page.wait_for_selector("p.note >> text=ausgeschaltet")
    assert get_rule("demo", "thank-you").enabled is False
    assert "Aus" in page.locator("tr#rule-thank-you .switch").inner_text()

    page.click("a[href$='/rules/thank-you']")
    assert "template: thank-you" in page.locator("pre.yaml").inner_text()
    assert page.locator("section[aria-labelledby=versions] li").count() == 2
    look(page, "rule")


def test_a_post_without_the_csrf_token_is_403(page, base_url):
    from regelwerk.store.rules import get_rule

    sign_in(page, base_url)
    answer = page.request.post(f"{base_url}/console/demo/rules/thank-you/switch", form={"enabled": "off"})
    assert answer.status == 403
    assert get_rule("demo", "thank-you").enabled is True


def test_a_viewer_gets_no_switch_and_a_forged_post_is_403(page, base_url):
    from regelwerk.store.rules import get_rule

    sign_in(page, base_url, VIEWER)
    assert "Betrachter" in page.locator("p.viewer").inner_text()
    page.click("nav.sections >> text=Regeln")
    assert page.locator("tr#rule-thank-you button").count() == 0
    look(page, "rules-viewer")
    page.click("nav.sections >> text=Unzustellbares")
    assert page.locator("main button").count() == 0

    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    forged = page.request.post(f"{base_url}/console/demo/rules/thank-you/switch", form={"enabled": "off", "csrf": csrf})
    assert forged.status == 403
    redrive = page.request.post(f"{base_url}/console/demo/dead-letters/redrive", form={"csrf": csrf})
    assert redrive.status == 403
    page.click("nav.sections >> text=Kunden")
    page.locator("td.customer-name a").first.click()
    assert page.locator("text=Personenbezogene Daten löschen").count() == 0
    customer = page.url.rsplit("/", 1)[1]
    erase = page.request.post(f"{page.url}/erase", form={"csrf": csrf, "confirm": customer})
    assert erase.status == 403
    assert get_rule("demo", "thank-you").enabled is True


def test_sign_out_ends_the_session(page, base_url, browser_context):
    sign_in(page, base_url)
    [cookie] = [c for c in browser_context.cookies() if c["name"] == "rw_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # no script can read the session

    page.click("text=Abmelden")
    page.wait_for_url(f"{base_url}/console/sign-in?note=signed_out")
    assert "abgemeldet" in page.locator("p.note").inner_text()

    browser_context.add_cookies([cookie])  # the old cookie, kept by someone
    page.goto(f"{base_url}/console/demo/orders")
    assert page.url.startswith(f"{base_url}/console/sign-in")


def test_the_owner_erases_a_customer_after_a_confirmation_naming_what_goes(page, base_url):
    sign_in(page, base_url)
    page.click("nav.sections >> text=Kunden")
    page.locator("td.customer-name a", has_text=XSS).click()
    page.click("text=Personenbezogene Daten löschen")
    listed = page.locator("ul.erase-list").inner_text()
    assert "xss@example.com" in listed and XSS in listed and "3001" in listed  # what will go, by name
    assert "Rechnungen" in page.locator("main").inner_text()  # and what stays
    look(page, "erase")

    page.click("button.danger")
    assert "der Kunde und 1 Bestellung(en)" in page.locator("p.note").inner_text()
    facts = page.locator("dl.facts").inner_text()
    assert "xss@example.com" not in facts and "Gelöscht" in facts
    assert page.dialogs == []


def test_an_invoice_of_order_1001_with_its_timeline(page, base_url):
    sign_in(page, base_url)
    page.click("nav.sections >> text=Rechnungen")
    page.fill("input[name=order]", "9007199254740993")
    page.click("form.filters button")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1 and "RE-2026-0001" in rows.first.inner_text() and "149,90" in rows.first.inner_text()
    look(page, "invoices")

    rows.first.locator("a").click()
    assert page.locator("h1").inner_text() == "Rechnung RE-2026-0001"
    events = page.locator("ol.timeline li").all_inner_texts()
    assert any("invoice.sent" in e for e in events) and any("invoice.paid" in e for e in events)
    look(page, "invoice")
    page.click("dl.facts >> text=9007199254740993")  # on to its order
    assert page.locator("h1").inner_text() == "Bestellung 1001"
    assert page.locator("section[aria-labelledby=invoices] a", has_text="RE-2026-0001").count() == 1
