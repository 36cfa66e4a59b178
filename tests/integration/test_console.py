"""The console as HTTP sees it: sign-in and its throttle, the session cookie, CSRF, roles, sign-out, the
security headers, and the admin API taking a person's access token with their role."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from regelwerk.api.identity import add_person, sign_in
from tests.conftest import order_event

OWNER = ("owner@demo.example", "Owner-Password-2026")
VIEWER = ("viewer@demo.example", "Viewer-Password-2026")
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def console(demo_shop):
    add_person("demo", *OWNER[:1], "owner", OWNER[1])
    add_person("demo", *VIEWER[:1], "viewer", VIEWER[1])

    def call(method: str, path: str, form: dict | None = None, cookie: str | None = None, headers=None):
        hdrs = {"Host": "127.0.0.1"} | ({"Content-Type": FORM} if form is not None else {})
        if cookie:
            hdrs["Cookie"] = cookie
        hdrs.update(headers or {})
        status, out, body = demo_shop.stack.invoke_http(method, path, hdrs, urlencode(form) if form else None)
        return status, out, body.decode()

    call.shop = demo_shop
    return call


def signed_in(console, who=OWNER) -> tuple[str, str]:
    """(cookie, CSRF token) of a fresh session."""
    status, headers, _ = console("POST", "/console/sign-in", {"email": who[0], "password": who[1]})
    assert status == 303, status
    cookie = headers["Set-Cookie"].split(";")[0]
    _, _, page = console("GET", "/console/demo/rules", cookie=cookie)
    return cookie, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_the_session_cookie_is_httponly_strict_and_opaque(console):
    status, headers, _ = console("POST", "/console/sign-in", {"email": OWNER[0], "password": OWNER[1]})
    cookie = headers["Set-Cookie"]
    assert status == 303 and headers["Location"] == "/console"
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # http locally
    value = cookie.split(";")[0].split("=", 1)[1]
    assert not value.startswith("eyJ") and len(value) >= 40  # no token: an opaque id
    # over https the cookie is Secure and host-only
    status, headers, _ = console(
        "POST", "/console/sign-in", {"email": OWNER[0], "password": OWNER[1]}, headers={"X-Forwarded-Proto": "https"}
    )
    assert headers["Set-Cookie"].startswith("__Host-rw_session=") and "; Secure" in headers["Set-Cookie"]


def test_every_answer_carries_the_security_headers(console):
    cookie, _ = signed_in(console)
    for path, who in (("/console/sign-in", None), ("/console/demo", cookie), ("/console/demo/runs", cookie)):
        status, headers, _ = console("GET", path, cookie=who)
        assert status == 200
        assert headers["Content-Security-Policy"] == (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    status, headers, body = console("GET", "/console/static/htmx.min.js")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff" and body.startswith("var htmx")


def test_the_vendored_htmx_is_the_pinned_release_and_pages_name_its_integrity(console):
    import base64
    import hashlib
    from pathlib import Path

    from regelwerk.api.console import web

    pinned = (Path(web.STATIC) / "htmx.min.js.sha384").read_text().split()[0]
    digest = "sha384-" + base64.b64encode(hashlib.sha384((web.STATIC / "htmx.min.js").read_bytes()).digest()).decode()
    assert digest == pinned
    _, _, page = console("GET", "/console/sign-in")
    assert f'integrity="{digest}"' in page
    assert "<script>" not in page and "style=" not in page  # nothing inline


def test_a_post_without_the_sessions_csrf_token_is_403_and_changes_nothing(console):
    cookie, csrf = signed_in(console)
    status, _, page = console("POST", "/console/demo/rules/thank-you/switch", {"enabled": "off"}, cookie=cookie)
    assert status == 403 and "security token" in page
    status, _, _ = console("POST", "/console/demo/rules/thank-you/switch", {"enabled": "off", "csrf": "x" * 43}, cookie)
    assert status == 403
    from regelwerk.store.rules import get_rule

    assert get_rule("demo", "thank-you").enabled is True
    status, headers, _ = console(
        "POST", "/console/demo/rules/thank-you/switch", {"enabled": "off", "csrf": csrf}, cookie
    )
    assert status == 303 and get_rule("demo", "thank-you").enabled is False
    # htmx sends it as a header
    status, headers, _ = console(
        "POST",
        "/console/demo/rules/thank-you/switch",
        {"enabled": "on"},
        cookie,
        {"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert status == 200 and headers["HX-Redirect"].startswith("/console/demo/rules")
    assert get_rule("demo", "thank-you").enabled is True


def test_a_post_from_another_site_is_refused(console):
    cookie, csrf = signed_in(console)
    status, _, _ = console(
        "POST",
        "/console/demo/rules/thank-you/switch",
        {"enabled": "off", "csrf": csrf},
        cookie,
        {"Origin": "https://evil.example"},
    )
    assert status == 403


def test_a_viewer_reads_but_every_change_is_403(console):
    cookie, csrf = signed_in(console, VIEWER)
    status, _, page = console("GET", "/console/demo/rules", cookie=cookie)
    assert status == 200 and "thank-you" in page and "/switch" not in page  # no switch offered
    for path, form in (
        ("/console/demo/rules/thank-you/switch", {"enabled": "off"}),
        ("/console/demo/dead-letters/redrive", {}),
    ):
        status, _, _ = console("POST", path, form | {"csrf": csrf}, cookie)
        assert status == 403
    from regelwerk.store.rules import get_rule

    assert get_rule("demo", "thank-you").enabled is True


def test_a_role_change_applies_to_the_next_request(console):
    cookie, csrf = signed_in(console, VIEWER)
    add_person("demo", VIEWER[0], "owner")  # made owner while signed in
    status, _, _ = console("POST", "/console/demo/rules/thank-you/switch", {"enabled": "off", "csrf": csrf}, cookie)
    assert status == 303
    from regelwerk.api.identity import remove_person

    assert remove_person("demo", VIEWER[0])
    status, _, _ = console("GET", "/console/demo/rules", cookie=cookie)
    assert status in (303, 404)  # no role in the shop any more (and signed out everywhere)


def test_sign_out_ends_the_session_and_revokes_the_refresh_token(console):
    cookie, csrf = signed_in(console)
    from regelwerk.store.people import load_session

    session = load_session(cookie.split("=", 1)[1])
    status, headers, _ = console("POST", "/console/sign-out", {"csrf": csrf}, cookie)
    assert status == 303 and headers["Location"] == "/console/sign-in?note=signed_out"
    assert "Max-Age=0" in headers["Set-Cookie"]
    status, headers, _ = console("GET", "/console/demo", cookie=cookie)
    assert status == 303 and headers["Location"].startswith("/console/sign-in")
    from regelwerk.api.identity import refresh
    from regelwerk.errors import Unauthorized

    with pytest.raises(Unauthorized):
        refresh(session.refresh_token)


def test_an_access_token_due_is_refreshed_and_a_revoked_one_ends_the_session(console):
    cookie, _ = signed_in(console)
    from regelwerk.store.people import load_session

    session = load_session(cookie.split("=", 1)[1])
    session.item.update(actions=[type(session.item).access_until.set(0)])  # due now
    status, _, _ = console("GET", "/console/demo", cookie=cookie)
    renewed = load_session(cookie.split("=", 1)[1])
    assert status == 200 and renewed.access_token != session.access_token
    from regelwerk.api.identity import sign_out

    sign_out(OWNER[0])  # signed out elsewhere
    renewed.item.update(actions=[type(renewed.item).access_until.set(0)])
    status, headers, _ = console("GET", "/console/demo", cookie=cookie)
    assert status == 303 and "session_ended" in headers["Location"]


def test_sign_in_is_throttled_after_five_failures_per_email(console):
    for _ in range(5):
        status, _, page = console("POST", "/console/sign-in", {"email": OWNER[0], "password": "wrong-Password-1"})
        assert status == 401 and ("Wrong e-mail or password" in page or "E-Mail oder Passwort falsch" in page)
    status, _, page = console("POST", "/console/sign-in", {"email": OWNER[0], "password": OWNER[1]})
    assert status == 429 and ("15" in page)
    # another person is not held up
    status, _, _ = console("POST", "/console/sign-in", {"email": VIEWER[0], "password": VIEWER[1]})
    assert status == 303


def test_an_unknown_email_and_a_wrong_password_read_the_same(console):
    _, _, unknown = console(
        "POST", "/console/sign-in?lang=en", {"email": "nobody@x.example", "password": "Whatever-123"}
    )
    _, _, wrong = console("POST", "/console/sign-in?lang=en", {"email": OWNER[0], "password": "Whatever-123"})
    assert "Wrong e-mail or password." in unknown and "Wrong e-mail or password." in wrong


def test_a_one_time_password_is_changed_at_the_first_sign_in(console):
    _, temporary = add_person("demo", "new@demo.example", "viewer")
    status, _, page = console("POST", "/console/sign-in", {"email": "new@demo.example", "password": temporary})
    assert status == 200 and 'name="challenge"' in page
    challenge = re.search(r'name="challenge" value="([^"]+)"', page).group(1)
    form = {"email": "new@demo.example", "challenge": challenge, "new_password": "My-Own-Password-42"}
    status, headers, _ = console("POST", "/console/sign-in", form)
    assert status == 303 and "rw_session=" in headers["Set-Cookie"]


def test_the_admin_api_takes_a_persons_access_token_and_applies_the_role(console):
    owner, viewer = sign_in(*OWNER), sign_in(*VIEWER)
    stack = console.shop.stack

    def admin(method, path, token):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        status, _, body = stack.invoke_http(method, f"/v1/shops/demo{path}", headers, None)
        return status, json.loads(body or b"{}")

    assert admin("GET", "/rules/thank-you", viewer.access_token)[0] == 200
    status, answer = admin("POST", "/rules/thank-you/disable", viewer.access_token)
    assert status == 403 and "viewer" in answer["message"]
    assert admin("DELETE", "/rules/thank-you", viewer.access_token)[0] == 403
    assert admin("POST", "/rules/thank-you/disable", owner.access_token)[0] == 200
    # a revoked token, a forged one, the token of someone whose role was taken away
    from regelwerk.api.identity import remove_person, sign_out

    sign_out(OWNER[0])
    assert admin("GET", "/rules/thank-you", owner.access_token)[0] == 401
    header, payload, _sig = viewer.access_token.split(".")
    assert admin("GET", "/rules/thank-you", f"{header}.{payload}.forged")[0] == 401
    assert remove_person("demo", VIEWER[0])
    assert admin("GET", "/rules/thank-you", viewer.access_token)[0] in (401, 404)
    # the shop's admin key still works as before
    status, _ = console.shop.admin("GET", "/rules/thank-you")
    assert status == 200


def test_a_customer_name_with_markup_is_text(console):
    xss = "<img src=x onerror=alert(1)>"
    console.shop.post(order_event(2, customer={"email": "xss@example.com", "first_name": xss, "last_name": "Test"}))
    console.shop.drain()
    cookie, _ = signed_in(console)
    _, _, page = console("GET", "/console/demo/customers", cookie=cookie)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and xss not in page


def test_a_list_shows_one_page_and_pages_on_with_the_signed_token(console):
    for n in range(30):
        body = order_event(2, id=f"880{n:02d}", number=f"88{n:02d}")
        body.pop("event_id", None)
        assert console.shop.post(body)[0] == 202
    cookie, _ = signed_in(console)
    _, _, first = console("GET", "/console/demo/orders", cookie=cookie)
    assert first.count('href="/console/demo/orders/') == 25  # one page, never the whole list
    token = re.search(r'href="/console/demo/orders\?next=([^"]+)" rel="next"', first).group(1)
    from html import unescape

    _, _, second = console("GET", f"/console/demo/orders?next={unescape(token)}", cookie=cookie)
    assert second.count('href="/console/demo/orders/') >= 5
    assert not set(re.findall(r"orders/(\d+)", first)) & set(re.findall(r"orders/(\d+)", second))
    status, _, tampered = console("GET", "/console/demo/orders?next=AAAA" + token[4:], cookie=cookie)
    assert status == 200 and 'class="error"' in tampered and "$.next" in tampered


def test_no_console_page_scans_a_table(console, monkeypatch):
    from typing import Any

    from pynamodb.connection.base import Connection

    cookie, _ = signed_in(console)
    console.shop.post(order_event(1))
    console.shop.drain()
    from regelwerk.store.orders import list_orders

    order = list_orders("demo")["orders"][0]
    seen: list[str] = []
    dispatch = Connection.dispatch

    def recording(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        seen.append(operation)
        return dispatch(self, operation, kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    pages = ["", "/rules", "/rules/thank-you", "/runs", "/runs?order=1001&rule=thank-you&fired=true", "/orders"]
    pages += [f"/orders/{order['id']}", "/customers", f"/customers/{order['customer_id']}", "/dead-letters"]
    pages += ["/invoices", "/invoices?order=1001&status=open", "/invoices?number=RE-1"]
    for path in pages:
        status, _, page = console("GET", f"/console/demo{path}", cookie=cookie)
        assert status == 200, (path, page[:500])
    assert seen and "Scan" not in seen


def test_an_orders_page_shows_each_lines_total(console):
    cookie, _ = signed_in(console)
    console.shop.post(order_event(1))  # 2 x 32.50 espresso, 4 x 20.00 mugs: no line totals sent
    console.shop.drain()
    status, _, page = console("GET", "/console/demo/orders/number:1001", cookie=cookie)
    assert status == 200
    assert "65,00" in page and "80,00" in page  # the lines' totals, not their unit prices
