"""API keys: list (never the key itself), create (shown once), revoke (it stops working at once)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router
from pydantic import BaseModel, ConfigDict, Field

from ...store import shops
from . import shop_of

router = Router()


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Literal["ingest", "admin"] = "ingest"
    label: str | None = Field(default=None, max_length=100)


@router.get("/v1/shops/<shop>/keys", summary="The shop's API keys: id, scope, label, created, last used")
def list_keys(shop: str) -> dict[str, Any]:
    return {"keys": shops.list_keys(shop_of(router).id)}


@router.post("/v1/shops/<shop>/keys", summary="Create an API key; the answer is the only time it is shown")
def create_key(shop: str, body: Annotated[NewKey, Body()]):  # type: ignore[no-untyped-def]  # see api/admin/__init__.py
    shop_id = shop_of(router).id
    key = shops.create_key(shop_id, body.scope, label=body.label)
    return Response(
        201,
        content_types.APPLICATION_JSON,
        {"id": shops.key_id(shops.hash_key(key)), "key": key, "scope": body.scope, "label": body.label},
        headers={"Cache-Control": "no-store"},
    )


@router.delete("/v1/shops/<shop>/keys/<key_id>", summary="Revoke an API key: it stops working at once")
def revoke_key(shop: str, key_id: str) -> dict[str, Any]:
    return {"revoked": shops.revoke_key(shop_of(router).id, key_id)}
