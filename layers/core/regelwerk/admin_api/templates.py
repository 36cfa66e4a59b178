"""Templates: list, get, put (checked: it must compile), delete, and a preview rendered with a stored order."""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router

from ..errors import NotFound
from ..store import rules as store
from ..store.tables import RuleItem
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
def delete_template(shop: str, name: str, language: str):
    store.delete_template(shop_of(router).id, name, language)
    return Response(204, content_types.APPLICATION_JSON, "")


@router.post("/v1/shops/<shop>/templates/<name>/preview", summary="Render an e-mail template (HTML) for an order")
def preview(shop: str, name: str, body: Annotated[dict[str, Any], Body()]):
    from .. import dryrun

    rule = {
        "id": "preview",
        "name": "Template preview",
        "trigger": {"event": "order.imported"},
        "actions": [{"type": "email", "template": name, "to": "customer"}],
    }
    answer = dryrun.test_rule(shop_of(router), rule=rule, order=body.get("order"), order_id=body.get("order_id"))
    [message] = answer["messages"]
    if "error" in message:
        from ..errors import InvalidInput, Problem

        raise InvalidInput("the template does not render", [Problem("$.template", message["error"])])
    html = message.get("html") or f"<pre>{message.get('text', '')}</pre>"
    return Response(
        200,
        content_types.TEXT_HTML,
        f"<!doctype html><meta charset='utf-8'><title>{escape(message['subject'])}</title>{html}",
    )
