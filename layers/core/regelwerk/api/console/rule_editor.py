"""The rule editor's pages: a rule as a form (triggers, a condition tree, actions per type) with the same rule as
YAML beside it, tested on an order and simulated over 30 days before it is saved through ``save_rule``, the
function the admin API's PUT uses. Every change of the form's shape is a POST answered with the form rendered
again (htmx swaps the part that changed); nothing is kept in the browser but the form itself.

Its router is included before the pages' router, so ``/rules/new`` is the editor and not a rule named "new".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router

from ...engine.fields import kind_of
from ...engine.rule import EVENTS
from ...engine.windows import WINDOWS
from ...errors import InvalidInput, NotFound, Problem, RegelwerkError
from ...store import rules as rule_store
from ...store.lookup import AmbiguousNumber
from ...store.orders import list_orders, resolve_order_id
from ..dryrun import simulate, test_rule
from . import editor
from .web import Visit, begin, is_htmx, redirect, render, signed_in

router = Router()
SIMULATED_DAYS = 30
BLANK: dict[str, Any] = {
    "id": "",
    "name": "",
    "enabled": False,  # a new rule is switched on by the owner, once it is tested
    "trigger": {"event": "order.paid"},
    "limit": "unlimited",
    "mode": "sequential",
    "actions": [],
}


def _visit(shop: str, *, change: bool = False) -> Visit:
    return signed_in(begin(router.current_event), shop, change=change)


def _form(visit: Visit) -> editor.Form:
    """Every value of every field (a multi-select sends one per country); the CSRF check has been done."""
    body = visit.event.decoded_body or ""
    return parse_qs(body, keep_blank_values=True)


def _editor(
    visit: Visit,
    doc: dict[str, Any],
    *,
    original: str,
    version: int,
    status: int = 200,
    problems: list[Problem] | None = None,
    message: str | None = None,
    stale: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    yaml_text: str | None = None,
) -> Response:
    assert visit.shop is not None
    if is_htmx(visit) and status in (409, 422):
        status = 200  # htmx swaps only 2xx answers; the page says what went wrong
    templates = sorted({t["name"] for t in rule_store.list_templates(visit.shop.id)})
    return render(
        visit,
        "rule_editor.html",
        status=status,
        doc=doc,
        original=original,
        version=version,
        yaml_text=editor.to_yaml(doc) if yaml_text is None else yaml_text,
        problems=[{"path": p.path, "reason": p.reason, "slot": editor.slot_of(p.path)} for p in problems or []],
        at=editor.problems_by_slot(problems or []),
        message=message,
        stale=stale,
        result=result,
        templates=templates,
        events=EVENTS,
        windows=WINDOWS,
        triggers=editor.triggers_of(doc),
        limit=editor.limit_view(doc),
        field_groups=editor.field_groups(),
        countries=editor.countries(visit.language),
        currencies=editor.CURRENCIES,
        action_types=editor.ACTION_TYPES,
        action_fields=editor.ACTION_FIELDS,
        leaf_view=lambda leaf: editor.leaf_view(leaf, visit.shop.time_zone if visit.shop else "UTC"),
        recipient_view=editor.recipient_view,
        kind_of=kind_of,
        test_order=_one(visit, "test_order"),
        page="rules",
    )


def _one(visit: Visit, name: str) -> str:
    return (visit.form.get(name) or "").strip()


@router.get("/console/<shop>/rules/new")
def new_rule(shop: str) -> Response:
    visit = _visit(shop)
    assert visit.shop is not None
    return _editor(visit, dict(BLANK), original="", version=0)


@router.get("/console/<shop>/rules/<rule_id>/edit")
def edit_rule(shop: str, rule_id: str) -> Response:
    visit = _visit(shop)
    rule = rule_store.get_rule(shop, rule_id)
    return _editor(visit, rule.document(), original=rule.id, version=rule.version)


@router.post("/console/<shop>/rules/editor")
def editor_post(shop: str) -> Response:
    """Every button of the editor: re-render, change the shape, apply the YAML, test, simulate, save."""
    visit = _visit(shop, change=True)
    assert visit.shop is not None
    form = _form(visit)
    do = _one(visit, "do") or "refresh"
    original = _one(visit, "original")
    version = int(_one(visit, "version") or 0) if _one(visit, "version").isdigit() else 0
    state: dict[str, Any] = {"original": original, "version": version}
    if do == "apply-yaml":
        text = visit.form.get("yaml") or ""
        try:
            doc = editor.from_yaml(text)
        except InvalidInput as error:
            return _editor(
                visit,
                editor.document_from_form(form, visit.shop.time_zone),
                **state,
                status=422,
                problems=error.problems,
                message=error.message,
                yaml_text=text,
            )
        return _editor(visit, doc, **state)
    doc = editor.document_from_form(form, visit.shop.time_zone)
    if do == "test":
        return _test(visit, doc, state)
    if do == "simulate":
        return _simulate(visit, doc, state)
    if do == "save" or do.startswith("save-over:"):
        return _save(visit, doc, state, do)
    return _editor(visit, editor.change_shape(doc, do, visit.shop.currency), **state)


def _test(visit: Visit, doc: dict[str, Any], state: dict[str, Any]) -> Response:
    assert visit.shop is not None
    wanted = _one(visit, "test_order")
    try:
        order_id = order_for(visit.shop.id, wanted)
        outcome = test_rule(visit.shop, rule=doc, order_id=order_id)
    except AmbiguousNumber as error:
        return _editor(visit, doc, **state, result={"kind": "test", "order": wanted, "error": error.message})
    except InvalidInput as error:
        if not error.problems:
            return _editor(visit, doc, **state, result={"kind": "test", "order": wanted, "error": error.message})
        return _editor(visit, doc, **state, status=422, problems=error.problems, message=error.message)
    except NotFound as error:
        return _editor(visit, doc, **state, result={"kind": "test", "order": wanted, "error": error.message})
    return _editor(visit, doc, **state, result={"kind": "test", "order": wanted, **outcome})


def order_for(shop_id: str, text: str) -> str:
    """The order the owner names: an e-mail (their newest order), the shop's number (AT-1, 1001) or an id."""
    if not text:
        raise InvalidInput("name an order: its number or the customer's e-mail", [])
    if "@" in text and not text.startswith("number:"):
        found = list_orders(shop_id, email=text, limit=1)["orders"]
        if not found:
            raise NotFound(f"no order of {text}")
        return str(found[0]["id"])
    try:
        return resolve_order_id(shop_id, text if text.startswith("number:") else f"number:{text}")
    except NotFound:
        return resolve_order_id(shop_id, text)


def _simulate(visit: Visit, doc: dict[str, Any], state: dict[str, Any]) -> Response:
    assert visit.shop is not None
    until = datetime.now(UTC)
    try:
        answer = simulate(visit.shop, rule=doc, since=until - timedelta(days=SIMULATED_DAYS), until=until)
    except InvalidInput as error:
        return _editor(visit, doc, **state, status=422, problems=error.problems, message=error.message)
    return _editor(visit, doc, **state, result={"kind": "simulation", "days": SIMULATED_DAYS, **answer})


def _save(visit: Visit, doc: dict[str, Any], state: dict[str, Any], do: str) -> Response:
    """Save through save_rule unless the stored rule is newer than the version the editor was opened at."""
    assert visit.shop is not None
    shop = visit.shop.id
    opened = int(do.split(":", 1)[1]) if do.startswith("save-over:") and do.split(":", 1)[1].isdigit() else None
    opened = state["version"] if opened is None else opened
    rule_id = state["original"] or str(doc.get("id") or "")
    try:
        stored = rule_store.get_rule(shop, rule_id) if rule_id else None
    except NotFound:
        stored = None
    if stored is not None and stored.version > opened:
        stale = {
            "version": stored.version,
            "opened": opened,
            "new": not state["original"],
            "diff": editor.diff(
                stored.document(), doc, f"{rule_id} (version {stored.version}, stored)", f"{rule_id} (this editor)"
            ),
        }
        return _editor(visit, doc, **state, status=409, stale=stale)
    try:
        saved = rule_store.save_rule(shop, doc)
    except InvalidInput as error:
        return _editor(visit, doc, **state, status=422, problems=error.problems, message=error.message)
    except RegelwerkError as error:  # a concurrent save between the check and the write: said, not overwritten
        return _editor(visit, doc, **state, status=error.status, message=error.message)
    target = visit.shop_url(f"/rules/{saved.id}", notice="saved")
    return redirect(target, htmx=is_htmx(visit))


@router.post("/console/<shop>/rules/<rule_id>/restore")
def restore_version(shop: str, rule_id: str) -> Response:
    """Save an earlier version's document as the rule's newest version."""
    visit = _visit(shop, change=True)
    wanted = _one(visit, "version")
    if not wanted.isdigit():
        raise InvalidInput("say which version to restore", [Problem("$.version", "a version number")])
    old = rule_store.get_rule_version(shop, rule_id, int(wanted))["rule"]
    saved = rule_store.save_rule(shop, {k: v for k, v in old.items() if k != "version"})
    return redirect(visit.shop_url(f"/rules/{rule_id}", notice="restored", restored=wanted, now=str(saved.version)))
