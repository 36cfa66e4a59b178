"""Templates: list, get, put (checked: it must compile), delete, and a preview rendered with a stored order."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router
from pydantic import BaseModel, ConfigDict, Field

from ...documents.preview import render_preview
from ...engine.context import invoice_context, rule_context
from ...errors import InvalidInput, NotFound, Problem
from ...model.shop import DunningLevel
from ...store import rules as store
from ...store.invoices import get_invoice_item, invoice_of
from ...store.orders import load_order
from ...store.tables import RuleItem
from .. import dryrun
from ..dryrun import order_context
from . import shop_of

router = Router()


@router.get("/v1/shops/<shop>/templates", summary="List the shop's templates")
def list_templates(shop: str) -> dict[str, Any]:
    return {"templates": store.list_templates(shop_of(router).id)}


@router.get("/v1/shops/<shop>/templates/<name>/<language>", summary="Get one language of a template")
def get_template(shop: str, name: str, language: str) -> dict[str, Any]:
    try:
        item = RuleItem.get(shop_of(router).id, f"template#{name}#{language}")
    except RuleItem.DoesNotExist as exc:
        raise NotFound(f"no template {name!r} in {language!r}") from exc
    return {"name": name, "language": language, "template": json.loads(item.document)}


@router.put("/v1/shops/<shop>/templates/<name>/<language>", summary="Create or replace one language of a template")
def put_template(shop: str, name: str, language: str, template: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    store.save_template(shop_of(router).id, name, language, template)
    return {"name": name, "language": language, "template": template}


@router.delete("/v1/shops/<shop>/templates/<name>/<language>", summary="Delete one language of a template")
def delete_template(shop: str, name: str, language: str):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py
    store.delete_template(shop_of(router).id, name, language)
    return Response(204, content_types.APPLICATION_JSON, "")


# a preview is the shop's own template rendered with customer data: no script runs, nothing loads from
# elsewhere, no one frames it (inline styles stay: e-mail HTML is styled inline)
PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class TemplatePreview(BaseModel):
    """Which order to render the template with, in which language, and as a page or as JSON."""

    model_config = ConfigDict(extra="forbid")

    order_id: str | None = Field(default=None, max_length=128)
    order: dict[str, Any] | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    format: Literal["html", "json"] = "html"


@router.post(
    "/v1/shops/<shop>/templates/<name>/preview",
    summary="Render a template for an order: a page, or JSON with subject, HTML and text (SMS: encoding, segments)",
)
def preview(shop: str, name: str, body: Annotated[TemplatePreview, Body()]):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py
    the_shop = shop_of(router)
    language = body.language
    if language is not None and store.get_template(the_shop.id, name, language) is None:
        raise NotFound(f"no template {name!r} in {language!r}")
    variant = store.get_template(the_shop.id, name, language or the_shop.language) or next(
        (
            store.get_template(the_shop.id, t["name"], t["language"])
            for t in store.list_templates(the_shop.id)
            if t["name"] == name
        ),
        None,
    )
    if variant is None:
        raise NotFound(f"no template {name!r}")
    kind = "email" if "subject" in variant or "html" in variant else "sms"
    rule = {
        "id": "preview",
        "name": "Template preview",
        "trigger": {"event": "order.imported"},
        "actions": [{"type": kind, "template": name, "to": "customer"}],
    }
    answer = dryrun.test_rule(the_shop, rule=rule, order=body.order, order_id=body.order_id, language=language)
    [message] = answer["messages"]
    if "error" in message:
        raise InvalidInput("the template does not render", [Problem("$.template", message["error"])])
    if body.format == "json":
        keys = (
            ("language", "subject", "html", "text") if kind == "email" else ("language", "text", "encoding", "segments")
        )
        return {"template": name, "type": kind} | {k: message.get(k) for k in keys}
    subject = message.get("subject") or f"SMS ({message.get('encoding')}, {message.get('segments')} segment(s))"
    html = message.get("html") or f"<pre>{escape(message.get('text') or '')}</pre>"  # plain text is text: escaped
    return Response(
        200,
        content_types.TEXT_HTML,
        f"<!doctype html><meta charset='utf-8'><title>{escape(subject)}</title>{html}",
        headers=PREVIEW_HEADERS,
    )


DocumentKind = Literal["invoice", "delivery_note", "payment_reminder", "credit_note", "dunning_letter"]


class DocumentPreview(BaseModel):
    """What to render: an order (stored or given) for order documents, a stored invoice for a dunning letter."""

    model_config = ConfigDict(extra="forbid")

    order_id: str | None = Field(default=None, max_length=128)
    order: dict[str, Any] | None = None
    invoice_id: str | None = Field(default=None, max_length=128)
    dunning_level: int = Field(default=1, ge=1, le=9)


@router.post(
    "/v1/shops/<shop>/documents/<kind>/preview",
    summary="Render a document (PDF) for a stored or given order, or a dunning letter for a stored invoice",
)
def preview_document(shop: str, kind: DocumentKind, body: Annotated[DocumentPreview, Body()]):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py

    current = shop_of(router)
    if kind == "dunning_letter":
        ctx = _invoice_context(current, body)
    else:
        _, ctx = order_context(current, order=body.order, order_id=body.order_id)
    ctx["event"] = {"id": "preview", "type": "preview", "received_at": datetime.now(UTC).isoformat()}
    pdf, filename = render_preview(kind, ctx)
    return Response(200, "application/pdf", pdf, headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _invoice_context(shop: Any, body: DocumentPreview) -> dict[str, Any]:

    if not body.invoice_id:
        raise InvalidInput("a dunning letter needs an invoice", [Problem("$.invoice_id", "required")])
    invoice = invoice_of(get_invoice_item(shop.id, body.invoice_id))  # an id or number:R-1
    order = load_order(shop.id, invoice.order_id) if invoice.order_id else None
    levels = shop.dunning.levels if shop.dunning else []
    step = next((lv for lv in levels if lv.level == body.dunning_level), None)
    if step is None:  # a level the shop does not configure: named as the usual three are, without a fee
        name = ("payment_reminder", "first_dunning", "final_notice")[min(body.dunning_level, 3) - 1]
        step = DunningLevel(level=body.dunning_level, after_days=0, name=name)
    dunning = step.context()
    return rule_context(shop, order=order, invoice=invoice_context(invoice)) | {"dunning": dunning}
