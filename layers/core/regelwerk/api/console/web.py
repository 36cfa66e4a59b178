"""What every console page shares: the session from its cookie, the CSRF check, the role check, rendering
with Jinja2 (autoescaped everywhere) and the security headers on every answer.

A session is an opaque cookie (HttpOnly, SameSite=Strict, Secure over https) naming a server-side item that
holds the Cognito tokens; the access token is refreshed with the refresh token when it is due, and a revoked
refresh token ends the session. Every POST carries the session's synchronizer token (a hidden form field, or
the ``X-CSRF-Token`` header htmx sends), compared in constant time.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from aws_lambda_powertools.event_handler import Response, content_types
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ...documents import templates as shop_templates
from ...errors import Forbidden, RegelwerkError, Unauthorized
from ...model.shop import Shop
from ...observability import logger
from ...store import people
from ...store.shops import load_shop
from .. import identity
from . import words

HERE = Path(__file__).parent
STATIC = HERE / "static"
COOKIE = "rw_session"
SECURE_COOKIE = "__Host-rw_session"  # over https: only this host, path /, Secure
ACCESS_REFRESH_MARGIN = 60  # refresh the access token a minute before it runs out

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE_HEADERS = SECURITY_HEADERS | {"Cache-Control": "no-store"}


class SignInNeeded(Exception):
    """No session, or it ended: the answer is the sign-in page (a redirect, or HX-Redirect for htmx)."""

    def __init__(self, note: str | None = None):
        super().__init__(note or "")
        self.note = note


@cache
def asset_hash(name: str, algorithm: str = "sha384") -> str:
    """The base64 digest of a vendored asset, for subresource integrity and the versioned URL."""
    import base64

    return base64.b64encode(hashlib.new(algorithm, (STATIC / name).read_bytes()).digest()).decode()


@dataclass
class Visit:
    """One request of a person: where they are, who they are, in which language."""

    event: Any  # Powertools' APIGatewayProxyEvent
    base: str  # "" locally, "/<stage>" on API Gateway's own domain
    secure: bool
    language: str
    session: people.Session | None = None
    binding: people.Binding | None = None
    shop: Shop | None = None
    shops: list[people.Binding] = field(default_factory=list)
    form: dict[str, str] = field(default_factory=dict)

    def url(self, path: str, **query: Any) -> str:
        kept = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{self.base}/console{path}" + (f"?{urlencode(kept)}" if kept else "")

    def shop_url(self, path: str = "/", **query: Any) -> str:
        assert self.shop is not None
        return self.url(f"/{self.shop.id}{path}", **query)

    @property
    def may_change(self) -> bool:
        return self.binding is not None and self.binding.role == "owner"

    def arg(self, name: str) -> str | None:
        value = (self.event.query_string_parameters or {}).get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None


def _headers(event: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in (event.headers or {}).items()}


def _cookie(event: Any) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(_headers(event).get("cookie", ""))
    except Exception:  # a malformed Cookie header is no session
        return None
    for name in (SECURE_COOKIE, COOKIE):
        if name in jar:
            return jar[name].value
    return None


def _language(event: Any, fallback: str) -> str:
    wanted = (event.query_string_parameters or {}).get("lang")
    if wanted in words.LANGUAGES:
        return str(wanted)
    accept = _headers(event).get("accept-language", "")
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in words.LANGUAGES:
            return code
    return fallback


def begin(event: Any) -> Visit:
    """The visit before any session is read: base path, https, language from the request."""
    headers = _headers(event)
    host = headers.get("host", "")
    stage = (event.request_context.stage if event.request_context else "") or ""
    base = f"/{stage}" if host.endswith(".amazonaws.com") and stage else ""
    secure = headers.get("x-forwarded-proto", "").lower() == "https"
    return Visit(event, base, secure, _language(event, "de"))


def read_form(visit: Visit) -> dict[str, str]:
    """A POST's form fields. A POST sent from another site's page is refused (its Origin names that site):
    with the session's token this stops cross-site posts, including one that signs a person in."""
    headers = _headers(visit.event)
    origin = headers.get("origin")
    if origin and origin != "null" and origin.split("://", 1)[-1] != headers.get("host", ""):
        raise Forbidden("this form was sent from another site")
    body = visit.event.decoded_body or ""
    if len(body) > 64 * 1024:
        raise Forbidden("form too large")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def signed_in(visit: Visit, shop_id: str | None = None, *, change: bool = False) -> Visit:
    """Fill the visit with the person's session (refreshed when due), their shops and role in ``shop_id``.

    Raises SignInNeeded without a live session, Forbidden for a POST without the session's CSRF token or a
    viewer's change, NotFound for a shop the person has no role in."""
    session = people.load_session(_cookie(visit.event))
    if session is None:
        raise SignInNeeded()
    if session.access_until - ACCESS_REFRESH_MARGIN <= time.time():
        try:
            tokens = identity.refresh(session.refresh_token)
        except Unauthorized:  # revoked (signed out elsewhere) or expired: the session is over
            people.close_session(session)
            raise SignInNeeded("session_ended") from None
        people.renew_access(session, tokens.access_token, tokens.expires_in)
    visit.session = session
    if session.item.language in words.LANGUAGES:
        visit.language = session.item.language
    if visit.event.http_method.upper() == "POST":
        visit.form = read_form(visit)
        sent = visit.form.get("csrf") or _headers(visit.event).get("x-csrf-token")
        if not people.csrf_matches(session, sent):
            raise Forbidden("the form is missing its security token: reload the page and try again")
    if shop_id is not None:
        visit.binding = people.require_role(shop_id, session.sub, change)
        visit.shop = load_shop(shop_id)
        if session.item.language not in words.LANGUAGES:
            visit.language = visit.shop.language if visit.shop.language in words.LANGUAGES else "en"
    visit.shops = people.shops_of(session.sub)
    return visit


def session_cookie(visit: Visit, token: str, max_age: int) -> str:
    name = SECURE_COOKIE if visit.secure else COOKIE
    secure = "; Secure" if visit.secure else ""
    return f"{name}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


def expired_cookie(visit: Visit) -> str:
    return session_cookie(visit, "", 0)


# ------------------------------------------------------------------ rendering


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = shop_templates.money_filter
    env.filters["date"] = shop_templates.date_filter
    env.filters["datetime"] = shop_templates.datetime_filter
    env.globals["asset_hash"] = asset_hash
    return env


def render(
    visit: Visit, template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    """A page in the visit's language, money and dates in the shop's locale and time zone."""
    shop = visit.shop
    language = visit.language
    shop_templates.current_locale.locale = (
        f"{language}_{shop.locale.split('_')[1]}" if shop and "_" in shop.locale else language
    )
    shop_templates.current_locale.tz = shop.time_zone if shop else "UTC"
    shop_templates.current_locale.sms = False

    def t(key: str, **values: Any) -> str:
        return words.say(language, key, **values)

    html = (
        environment()
        .get_template(template)
        .render(
            visit=visit,
            t=t,
            lang=language,
            event_words=lambda e: words.event_words(language, e),
            state_words=lambda s: words.state_words(language, s),
            operator_words=lambda o: words.operator_words(language, o),
            **context,
        )
    )
    return Response(status, content_types.TEXT_HTML + "; charset=utf-8", html, headers=PAGE_HEADERS | (headers or {}))


def redirect(location: str, headers: dict[str, str] | None = None, *, htmx: bool = False) -> Response:
    extra = {"HX-Redirect": location} if htmx else {"Location": location}
    return Response(
        303 if not htmx else 200, content_types.TEXT_HTML, "", headers=PAGE_HEADERS | extra | (headers or {})
    )


def is_htmx(visit: Visit) -> bool:
    return _headers(visit.event).get("hx-request") == "true"


def error_page(visit: Visit, error: RegelwerkError) -> Response:
    return render(visit, "error.html", status=error.status, error=error)


def static(name: str) -> Response:
    """A vendored asset: versioned by its digest in the URL, so it may be cached for long."""
    kinds = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or path.suffix not in kinds or not path.is_file():
        return Response(404, content_types.TEXT_PLAIN, "not found", headers=SECURITY_HEADERS)
    headers = SECURITY_HEADERS | {"Cache-Control": "public, max-age=31536000, immutable"}
    return Response(200, kinds[path.suffix], path.read_text(), headers=headers)


# ------------------------------------------------------------------ answers to what went wrong


def answer_sign_in(event: Any, error: SignInNeeded) -> Response:
    """No live session: to the sign-in page (htmx follows HX-Redirect), the dead cookie cleared."""
    visit = begin(event)
    target = visit.url("/sign-in", note=error.note)
    return redirect(
        target, headers={"Set-Cookie": expired_cookie(visit)}, htmx=_headers(event).get("hx-request") == "true"
    )


def answer_error(event: Any, error: RegelwerkError) -> Response:
    """A refused request as a page in the person's language (403 for a viewer's change or a missing CSRF token)."""
    from ..responses import log_refusal

    log_refusal(error, "console request")
    visit = begin(event)
    try:
        session = people.load_session(_cookie(event))
        if session is not None and session.item.language in words.LANGUAGES:
            visit.language = session.item.language
    except Exception:  # the error page must not fail on the session
        logger.exception("console: no session for the error page")
    return error_page(visit, error)


def answer_not_found(event: Any) -> Response:
    from ...errors import NotFound

    return answer_error(event, NotFound("no such page"))
