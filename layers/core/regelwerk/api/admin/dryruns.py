"""Dry runs (rules:test) and simulations (rules:simulate): answers only, no side effects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router

from ...errors import InvalidInput, Problem
from .. import dryrun
from . import shop_of

router = Router()
_TEST_KEYS = {"rule", "rule_id", "order", "order_id", "event"}
_SIM_KEYS = {"rule", "rule_id", "since", "until", "samples", "next"}


def _check(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput("invalid request", [Problem(f"$.{k}", "unknown field") for k in unknown])


@router.post("/v1/shops/<shop>/rules:test", summary="Dry-run a rule against an order: explanation and messages")
def test_rule(shop: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    _check(body, _TEST_KEYS)
    return dryrun.test_rule(
        shop_of(router),
        rule=body.get("rule"),
        rule_id=body.get("rule_id"),
        order=body.get("order"),
        order_id=body.get("order_id"),
        event=body.get("event"),
    )


def _time(body: dict[str, Any], key: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(body[key]))
    except KeyError as exc:
        raise InvalidInput("invalid request", [Problem(f"$.{key}", "required field is missing")]) from exc
    except ValueError as exc:
        raise InvalidInput("invalid request", [Problem(f"$.{key}", "not an ISO 8601 date-time")]) from exc
    if value.tzinfo is None:
        raise InvalidInput("invalid request", [Problem(f"$.{key}", "needs a time zone offset")])
    return value


@router.post("/v1/shops/<shop>/rules:simulate", summary="What a rule would have done over a time window")
def simulate(shop: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    _check(body, _SIM_KEYS)
    samples = body.get("samples", 3)
    if not isinstance(samples, int) or not 0 <= samples <= 20:
        raise InvalidInput("invalid request", [Problem("$.samples", "a whole number from 0 to 20")])
    return dryrun.simulate(
        shop_of(router),
        rule=body.get("rule"),
        rule_id=body.get("rule_id"),
        since=_time(body, "since"),
        until=_time(body, "until"),
        samples=samples,
        token=body.get("next"),
    )
