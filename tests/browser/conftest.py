"""The console in a real browser: Debian's Chromium driven by Playwright, against the test process's own local
stack served over HTTP on a free port (the same WSGI app `make serve` runs).

One browser per session (a persistent context on a fresh profile directory); each test starts with no cookies.
The shop is the demo shop with the demo events posted, a dead-lettered action, a customer whose name is markup,
a demo owner and a demo viewer, made once and rewound to before each test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Shop, order_event

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "outbox" / "console"
OWNER = ("owner@demo.example", "Owner-Password-2026")
VIEWER = ("viewer@demo.example", "Viewer-Password-2026")
XSS = "<img src=x onerror=alert(1)>"
BROKEN = {
    "id": "broken-mail",
    "name": "An e-mail whose template was deleted after the rule was saved",
    "trigger": {"event": "order.imported"},
    "actions": [{"type": "email", "template": "missing-template", "to": "customer"}],
}

_DATA: dict[str, Any] = {}


def _make_console_data(shop: Shop) -> None:
    """The demo events, a dead letter, the markup-named customer and the two people."""
    from regelwerk.api.identity import add_person
    from regelwerk.store.rules import delete_rule, delete_template, save_rule, save_template
    from regelwerk_cli.main import _post_demo_events

    _post_demo_events(shop.stack, shop.id, shop.key)
    # an action that fails five times and is dead-lettered (its template went after the rule was saved)
    save_template("demo", "missing-template", "de", {"subject": "Hallo", "text": "Hallo"})
    save_rule("demo", BROKEN)
    delete_template("demo", "missing-template", "de")
    body = order_event(2, id="77001", number="2001")
    body.pop("event_id", None)
    status, _ = shop.post(body)
    assert status == 202
    shop.drain()
    delete_rule("demo", "broken-mail")
    body = order_event(2, id="77002", number="3001", customer={"email": "xss@example.com", "first_name": XSS})
    body.pop("event_id", None)
    status, _ = shop.post(body)
    assert status == 202
    shop.drain()
    # an invoice of order 1001 from the shop's invoicing (sent, then paid)
    from tests.integration.test_dunning import invoice, post_invoice

    sent = invoice(
        1, order_id="9007199254740993", customer_name="Anna Müller", customer_email="anna.mueller@example.de"
    )
    post_invoice(shop, sent)
    post_invoice(shop, invoice(1, **(sent["invoice"] | {"status": "paid", "paid_at": "2026-11-10T09:00:00+01:00"})))
    shop.drain()
    add_person("demo", OWNER[0], "owner", OWNER[1])
    add_person("demo", VIEWER[0], "viewer", VIEWER[1])


@pytest.fixture
def console_shop(demo_shop: Shop) -> Shop:
    checkpoint = _DATA.get("checkpoint")
    if checkpoint is None or not demo_shop.stack.can_rewind(checkpoint):
        _make_console_data(demo_shop)
        _DATA["checkpoint"] = demo_shop.stack.checkpoint()
    else:
        demo_shop.stack.rewind(checkpoint)
    return demo_shop


@pytest.fixture(scope="session")
def base_url(stack: Any) -> Iterator[str]:
    """The stack's API and console on 127.0.0.1, a free port, for the session."""
    from werkzeug.serving import make_server

    from regelwerk_cli.serve import http_app

    server = make_server("127.0.0.1", 0, http_app(stack, threading.Lock()), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: `make test` installs it (apt-get install chromium) when run as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            locale="de-DE",
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()
    if LOAD_TIMES:
        import json

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "load-times.json").write_text(json.dumps(LOAD_TIMES, indent=1, sort_keys=True) + "\n")


@pytest.fixture
def page(browser_context: Any, console_shop: Shop) -> Iterator[Any]:
    """A new tab with no cookies; dialogs (an alert a script might raise) are recorded, never shown."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.errors = []
    tab.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    tab.close()


def sign_in(page: Any, base_url: str, who: tuple[str, str] = OWNER) -> float:
    """Sign in through the form; returns the seconds from submit to the overview being loaded."""
    page.goto(f"{base_url}/console")
    page.fill("#email", who[0])
    page.fill("#password", who[1])
    started = time.perf_counter()
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/console/demo")
    page.wait_for_load_state("load")
    return time.perf_counter() - started


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


LOAD_TIMES: dict[str, float] = {}  # page -> milliseconds from request to the load event, written at the end


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    LOAD_TIMES[name] = round(page.evaluate("performance.getEntriesByType('navigation')[0].duration"), 1)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
