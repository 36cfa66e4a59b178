"""Rules: create, replace, get, list, enable/disable, delete; every change is a new version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...engine.windows import WINDOWS
from ...errors import Conflict, InvalidInput, NotFound, Problem
from ...ingest.selections import start
from ...store import rules as store
from ...store.invoices import resolve_invoice_id
from ...store.orders import resolve_order_id
from . import shop_of

router = Router()
RuleDocument = Annotated[dict[str, Any], Body(description="a rule document (see the README)")]


def _out(rule: Any) -> dict[str, Any]:
    return rule.document() | {"version": rule.version}


@router.get("/v1/shops/<shop>/rules", summary="List the shop's rules")
def list_rules(shop: str) -> dict[str, Any]:
    return {"rules": [_out(r) for r in store.list_rules(shop_of(router).id)]}


@router.post("/v1/shops/<shop>/rules", summary="Create a rule (version 1)")
def create_rule(shop: str, rule: RuleDocument):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py
    shop_id = shop_of(router).id
    rule_id = rule.get("id")
    if isinstance(rule_id, str):
        try:
            store.get_rule(shop_id, rule_id)
            raise Conflict(f"rule {rule_id!r} exists; PUT /v1/shops/{shop_id}/rules/{rule_id} replaces it")
        except NotFound:
            pass
    saved = store.save_rule(shop_id, rule)
    return Response(201, content_types.APPLICATION_JSON, _out(saved))


@router.get("/v1/shops/<shop>/rules/<rule_id>", summary="Get a rule's live version")
def get_rule(shop: str, rule_id: str) -> dict[str, Any]:
    return _out(store.get_rule(shop_of(router).id, rule_id))


@router.put("/v1/shops/<shop>/rules/<rule_id>", summary="Replace a rule (a new version)")
def replace_rule(shop: str, rule_id: str, rule: RuleDocument) -> dict[str, Any]:
    if rule.get("id", rule_id) != rule_id:
        raise InvalidInput("invalid rule", [Problem("$.id", f"must be {rule_id!r}, the id in the path")])
    return _out(store.save_rule(shop_of(router).id, {**rule, "id": rule_id}))


@router.delete("/v1/shops/<shop>/rules/<rule_id>", summary="Delete a rule (its versions stay readable)")
def delete_rule(shop: str, rule_id: str):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py
    store.delete_rule(shop_of(router).id, rule_id)
    return Response(204, content_types.APPLICATION_JSON, "")


def _set_enabled(rule_id: str, enabled: bool) -> dict[str, Any]:
    shop_id = shop_of(router).id
    doc = store.get_rule(shop_id, rule_id).document()
    return _out(store.save_rule(shop_id, {**doc, "enabled": enabled}))


@router.post("/v1/shops/<shop>/rules/<rule_id>/enable", summary="Enable a rule (a new version)")
def enable_rule(shop: str, rule_id: str) -> dict[str, Any]:
    return _set_enabled(rule_id, True)


@router.post("/v1/shops/<shop>/rules/<rule_id>/disable", summary="Disable a rule (a new version)")
def disable_rule(shop: str, rule_id: str) -> dict[str, Any]:
    return _set_enabled(rule_id, False)


@router.get("/v1/shops/<shop>/rules/<rule_id>/versions", summary="Every version of a rule")
def versions(shop: str, rule_id: str) -> dict[str, Any]:
    return {"versions": store.rule_versions(shop_of(router).id, rule_id)}


@router.get("/v1/shops/<shop>/rules/<rule_id>/versions/<version>", summary="One version of a rule")
def version(shop: str, rule_id: str, version: str) -> dict[str, Any]:
    if not version.isdigit():
        raise NotFound(f"rule {rule_id!r} has no version {version!r}")
    return store.get_rule_version(shop_of(router).id, rule_id, int(version))


class ManualRun(BaseModel):
    """Which records to run a rule on: ids of one kind, or a selection (``over`` and ``window``)."""

    model_config = ConfigDict(extra="forbid")

    order_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(default=None, max_length=1000)
    invoice_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(default=None, max_length=1000)
    customer_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=1000
    )
    over: Literal["orders", "invoices", "customers"] | None = None
    window: str | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> ManualRun:
        given = [n for n in ("order_ids", "invoice_ids", "customer_ids", "over") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of order_ids, invoice_ids, customer_ids or over")
        if self.window is not None:
            if self.over is None:
                raise ValueError("'window' needs 'over'")
            if self.window not in WINDOWS:
                raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
        return self


@router.post("/v1/shops/<shop>/rules/<rule_id>/run", summary="Run a rule now on given ids or a selection")
def run_rule(shop: str, rule_id: str, body: Annotated[ManualRun, Body()]):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py
    """Billbee's manual trigger: the rule's conditions decide for each record; answers at once with the
    run id, and the run log shows progress (one entry per page) and a run for each record it fired on."""

    shop_id = shop_of(router).id
    store.get_rule(shop_id, rule_id)  # 404 for an unknown rule
    of: str = body.over or next(k for k in ("orders", "invoices", "customers") if getattr(body, f"{k[:-1]}_ids"))
    ids = None if body.over else list(dict.fromkeys(getattr(body, f"{of[:-1]}_ids")))
    resolve = {"orders": resolve_order_id, "invoices": resolve_invoice_id}.get(of)
    if ids and resolve:  # number:1001 stands for the order with that number (404 if none, 409 if several)
        ids = list(dict.fromkeys(resolve(shop_id, i) for i in ids))
    run_id = "man_" + uuid.uuid4().hex[:26]
    answer = start(
        shop_id, rule_id, of=of, window=body.window, ids=ids, event_type="manual", run_id=run_id, now=datetime.now(UTC)
    )
    return Response(202, content_types.APPLICATION_JSON, answer)
