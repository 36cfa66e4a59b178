"""Shop settings."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router
from pydantic import ValidationError

from ...errors import InvalidInput, Problem, pydantic_problems
from ...model.shop import Shop
from ...store.shops import clear_cache, save_shop
from . import shop_of

router = Router()


@router.get("/v1/shops/<shop>", summary="The shop's settings")
def get_shop(shop: str) -> dict[str, Any]:
    return shop_of(router).model_dump(mode="json")


@router.put("/v1/shops/<shop>", summary="Replace the shop's settings")
def put_shop(shop: str, settings: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    current = shop_of(router)
    if settings.get("id", current.id) != current.id:
        raise InvalidInput("invalid shop", [Problem("$.id", "the shop id cannot change")])
    try:
        updated = Shop.model_validate({**settings, "id": current.id})
    except ValidationError as exc:
        raise InvalidInput("invalid shop", pydantic_problems(exc)) from exc
    save_shop(updated)

    clear_cache()
    return updated.model_dump(mode="json")
