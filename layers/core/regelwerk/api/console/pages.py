"""The console's pages: each route reads what it shows with the same domain functions the admin API's routes
use (never through HTTP) and renders one template. Lists show one page at a time, with the signed ``next``
token of the list they come from. Changes are POST forms checked for the session's CSRF token and the
person's role (a viewer gets 403)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, get_args

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router

from ...engine.rule import EVENTS
from ...errors import InvalidInput, NotFound, RegelwerkError, Unauthorized
from ...model.invoice import InvoiceStatus
from ...model.order import Order
from ...store import people
from ...store import rules as rule_store
from ...store.invoices import list_invoices
from ...store.lookup import AmbiguousNumber, window
from ...store.orders import list_orders, resolve_order_id
from ...store.runs import STATUSES, get_run, search_runs
from .. import identity
from ..customers import erase_customer, get_customer, list_customers
from ..records import invoice_detail, order_detail
from . import deadletters, editor, overview, words
from .web import (
    Visit,
    begin,
    expired_cookie,
    is_htmx,
    read_form,
    redirect,
    render,
    session_cookie,
    signed_in,
    static,
)

router = Router()
PAGE = 25  # rows per list page


def _visit(shop: str | None = None, *, change: bool = False) -> Visit:
    return signed_in(begin(router.current_event), shop, change=change)


def _back(visit: Visit, fallback: str) -> str:
    """Where a form sends the person back: a console path of this site, never elsewhere."""
    back = visit.form.get("back") or ""
    prefix = f"{visit.base}/console"
    return back if back.startswith(prefix + "/") or back == prefix else fallback


# ------------------------------------------------------------------ sign-in and out


@router.get("/console/static/<name>")
def asset(name: str) -> Response:
    return static(name)


@router.get("/console")
def home() -> Response:
    visit = _visit()
    if not visit.shops:
        return render(visit, "no_shop.html")
    return redirect(visit.url(f"/{visit.shops[0].shop_id}"))


@router.get("/console/sign-in")
def sign_in_form() -> Response:
    visit = begin(router.current_event)
    note = visit.arg("note")
    return render(visit, "sign_in.html", note=note if note in ("signed_out", "session_ended") else None, error=None)


def _signed_in_answer(visit: Visit, email: str, tokens: identity.Tokens) -> Response:
    sub, email = identity.person_of(tokens.access_token)
    session = people.open_session(sub, email, tokens.access_token, tokens.refresh_token, tokens.expires_in)
    cookie = session_cookie(visit, session.token, people.SESSION_SECONDS)
    return redirect(visit.url(""), headers={"Set-Cookie": cookie})


@router.post("/console/sign-in")
def sign_in() -> Response:
    visit = begin(router.current_event)
    visit.form = read_form(visit)
    email = (visit.form.get("email") or "").strip().lower()[:254]
    password = visit.form.get("password") or ""
    if people.signin_blocked(email):
        return render(visit, "sign_in.html", status=429, note=None, error="too_many_attempts", email=email)
    try:
        if visit.form.get("challenge"):  # the one-time password's challenge, answered with their own password
            challenge = identity.NewPasswordRequired(email, visit.form["challenge"])
            tokens = identity.choose_password(challenge, visit.form.get("new_password") or "")
        else:
            result = identity.sign_in(email, password)
            if isinstance(result, identity.NewPasswordRequired):
                return render(visit, "new_password.html", email=email, challenge=result.challenge_session, error=None)
            tokens = result
    except Unauthorized as error:
        people.note_signin_failure(email)
        if visit.form.get("challenge"):
            return render(
                visit,
                "new_password.html",
                status=401,
                email=email,
                challenge=visit.form["challenge"],
                error=error.message,
            )
        return render(visit, "sign_in.html", status=401, note=None, error="wrong_password", email=email)
    return _signed_in_answer(visit, email, tokens)


@router.post("/console/sign-out")
def sign_out() -> Response:
    visit = _visit()
    assert visit.session is not None
    identity.sign_out(visit.session.email)  # revokes the refresh token too: the session cannot come back
    people.close_session(visit.session)
    return redirect(visit.url("/sign-in", note="signed_out"), headers={"Set-Cookie": expired_cookie(visit)})


@router.post("/console/language")
def language() -> Response:
    visit = _visit()
    assert visit.session is not None
    chosen = visit.form.get("language")
    if chosen in words.LANGUAGES:
        people.set_language(visit.session, chosen)
    return redirect(_back(visit, visit.url("")))


# ------------------------------------------------------------------ overview


def _day_label(visit: Visit) -> Any:
    from babel.dates import format_date  # Babel's data loads with the first page, not at cold start

    return lambda d: format_date(d, "EEEEEE", locale=visit.language)  # Mo, Di ... : seven fit under the bars


@router.get("/console/<shop>")
def overview_page(shop: str) -> Response:
    visit = _visit(shop)
    assert visit.shop is not None
    data = overview.overview(shop, visit.shop.time_zone, datetime.now(UTC))
    charts = overview.charts(
        data, _day_label(visit), lambda f: words.say(visit.language, "chart_of", what=words.say(visit.language, f))
    )
    return render(visit, "overview.html", data=data, charts=charts, figures=overview.FIGURES, page="overview")


# ------------------------------------------------------------------ rules


@router.get("/console/<shop>/rules")
def rules_page(shop: str) -> Response:
    visit = _visit(shop)
    rules = sorted(rule_store.list_rules(shop), key=lambda r: r.id)
    activity = overview.rule_activity(shop)
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "enabled": r.enabled,
            "triggers": words.triggers_in_words(visit.language, [t.model_dump(by_alias=True) for t in r.all_triggers]),
            "last_fired": activity.get(r.id, {}).get("last_fired"),
            "count": activity.get(r.id, {}).get("count", 0),
        }
        for r in rules
    ]
    return render(
        visit, "rules.html", rules=rows, page="rules", notice=visit.arg("notice"), notice_rule=visit.arg("rule")
    )


@router.get("/console/<shop>/rules/<rule_id>")
def rule_page(shop: str, rule_id: str) -> Response:
    import yaml  # the YAML view only: not at cold start

    visit = _visit(shop)
    rule = rule_store.get_rule(shop, rule_id)
    versions = rule_store.rule_versions(shop, rule_id)
    shown = rule.document()
    chosen = visit.arg("version")
    if chosen and chosen.isdigit() and int(chosen) != rule.version:
        shown = {
            k: v for k, v in rule_store.get_rule_version(shop, rule_id, int(chosen))["rule"].items() if k != "version"
        }
    text = yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, default_flow_style=False)
    live = rule.document()  # an earlier version is shown with what differs from the live one
    difference = editor.diff(shown, live, f"version {chosen}", f"version {rule.version}") if shown != live else ""
    triggers = words.triggers_in_words(visit.language, [t.model_dump(by_alias=True) for t in rule.all_triggers])
    return render(
        visit,
        "rule.html",
        rule=rule,
        triggers=triggers,
        yaml_text=text,
        versions=versions,
        shown_version=int(chosen) if chosen and chosen.isdigit() else rule.version,
        difference=difference,
        notice=visit.arg("notice"),
        page="rules",
    )


@router.post("/console/<shop>/rules/<rule_id>/switch")
def switch_rule(shop: str, rule_id: str) -> Response:
    visit = _visit(shop, change=True)
    enabled = visit.form.get("enabled") == "on"
    document = rule_store.get_rule(shop, rule_id).document()
    rule_store.save_rule(shop, {**document, "enabled": enabled})
    target = visit.shop_url("/rules", notice="switched_on" if enabled else "switched_off", rule=rule_id)
    return redirect(target, htmx=is_htmx(visit))


# ------------------------------------------------------------------ runs


_BOOLEAN = {"true": True, "false": False}


def _order_ref(shop: str, text: str) -> str:
    """What the owner types in the order filter: their number (1001), or number:1001@channel, or an id."""
    ref = text if text.startswith("number:") else f"number:{text}"
    try:
        return resolve_order_id(shop, ref)
    except NotFound:
        return resolve_order_id(shop, text)


@router.get("/console/<shop>/runs")
def runs_page(shop: str) -> Response:
    visit = _visit(shop)
    filters = {k: visit.arg(k) for k in ("order", "rule", "event", "fired", "status", "since", "until")}
    problem, choices = None, []
    found: dict[str, Any] = {"runs": [], "next": None}
    try:
        since, until = window(filters["since"], filters["until"])
        found = search_runs(
            shop,
            order_id=_order_ref(shop, filters["order"]) if filters["order"] else None,
            rule=filters["rule"],
            event=filters["event"],
            fired=_BOOLEAN.get(filters["fired"] or ""),
            status=filters["status"],
            since=since,
            until=until,
            limit=PAGE,
            token=visit.arg("next"),
        )
    except AmbiguousNumber as error:  # two channels both have an order 1001: the owner picks one
        choices = error.matches
    except RegelwerkError as error:
        problem = error.message + "".join(f" ({p.path}: {p.reason})" for p in error.problems)
    rules = sorted(r.id for r in rule_store.list_rules(shop))
    return render(
        visit,
        "runs.html",
        runs=found["runs"],
        next=found["next"],
        filters=filters,
        problem=problem,
        choices=choices,
        rules=rules,
        events=EVENTS,
        statuses=STATUSES,
        page="runs",
    )


@router.get("/console/<shop>/runs/<run_id>")
def run_page(shop: str, run_id: str) -> Response:
    visit = _visit(shop)
    run = get_run(shop, run_id)
    return render(visit, "run.html", run=run, page="runs")


# ------------------------------------------------------------------ orders


def _list_page(
    visit: Visit, template: str, rows: str, read: Callable[[], dict[str, Any]], filters: dict[str, Any], **context: Any
) -> Response:
    """One page of a list; a refused filter is said on the page above an empty list (the API's own message)."""
    problem = None
    found: dict[str, Any] = {rows: [], "next": None}
    try:
        found = read()
    except RegelwerkError as error:
        problem = error.message + "".join(f" ({p.path}: {p.reason})" for p in error.problems)
    return render(
        visit, template, **{rows: found[rows]}, next=found["next"], filters=filters, problem=problem, **context
    )


@router.get("/console/<shop>/orders")
def orders_page(shop: str) -> Response:
    visit = _visit(shop)
    filters = {k: visit.arg(k) for k in ("number", "email", "status")}

    def read() -> dict[str, Any]:
        return list_orders(shop, **filters, limit=PAGE, token=visit.arg("next"))

    return _list_page(visit, "orders.html", "orders", read, filters, page="orders")


@router.get("/console/<shop>/orders/<order_id>")
def order_page(shop: str, order_id: str) -> Response:
    visit = _visit(shop)
    detail = order_detail(shop, order_id)
    # the lines as rules and documents see them: each with its total (the platform's, else quantity x price)
    lines = Order.model_validate(detail["order"]).to_context()["line_items"]
    return render(visit, "order.html", detail=detail, order=detail["order"], lines=lines, page="orders")


# ------------------------------------------------------------------ invoices


@router.get("/console/<shop>/invoices")
def invoices_page(shop: str) -> Response:
    visit = _visit(shop)
    filters = {k: visit.arg(k) for k in ("number", "status", "order")}

    def read() -> dict[str, Any]:
        order = _order_ref(shop, filters["order"]) if filters["order"] else None
        return list_invoices(shop, **(filters | {"order": order}), limit=PAGE, token=visit.arg("next"))

    statuses = get_args(InvoiceStatus)
    return _list_page(visit, "invoices.html", "invoices", read, filters, statuses=statuses, page="invoices")


@router.get("/console/<shop>/invoices/<invoice_id>")
def invoice_page(shop: str, invoice_id: str) -> Response:
    visit = _visit(shop)
    detail = invoice_detail(shop, invoice_id)
    return render(visit, "invoice.html", detail=detail, invoice=detail["invoice"], page="invoices")


# ------------------------------------------------------------------ customers


@router.get("/console/<shop>/customers")
def customers_page(shop: str) -> Response:
    visit = _visit(shop)
    filters = {"email": visit.arg("email")}

    def read() -> dict[str, Any]:
        return list_customers(shop, email=filters["email"], limit=PAGE, token=visit.arg("next"))

    return _list_page(visit, "customers.html", "customers", read, filters, page="customers")


@router.get("/console/<shop>/customers/<customer_id>")
def customer_page(shop: str, customer_id: str) -> Response:
    visit = _visit(shop)
    customer = get_customer(shop, customer_id)
    return render(visit, "customer.html", customer=customer, page="customers", notice=visit.arg("notice"))


@router.get("/console/<shop>/customers/<customer_id>/erase")
def erase_confirmation(shop: str, customer_id: str) -> Response:
    visit = _visit(shop)
    customer = get_customer(shop, customer_id)
    return render(visit, "erase.html", customer=customer, page="customers")


@router.post("/console/<shop>/customers/<customer_id>/erase")
def erase(shop: str, customer_id: str) -> Response:
    visit = _visit(shop, change=True)
    if visit.form.get("confirm") != customer_id:
        raise InvalidInput("confirm the erasure on its page")
    result = erase_customer(shop, customer_id)
    return redirect(visit.shop_url(f"/customers/{customer_id}", notice=str(result["orders_erased"])))


# ------------------------------------------------------------------ dead letters


@router.get("/console/<shop>/dead-letters")
def dead_letters_page(shop: str) -> Response:
    visit = _visit(shop)
    found = deadletters.dead_letters(shop, limit=PAGE, token=visit.arg("next"))
    return render(
        visit,
        "dead_letters.html",
        rows=found["dead_letters"],
        next=found["next"],
        page="dead_letters",
        moved=visit.arg("moved"),
    )


@router.post("/console/<shop>/dead-letters/redrive")
def redrive(shop: str) -> Response:
    visit = _visit(shop, change=True)
    moved = deadletters.redrive(shop, visit.form.get("action_id") or None)
    return redirect(visit.shop_url("/dead-letters", moved=str(moved)), htmx=is_htmx(visit))
