"""Tasks made by create_task actions: list (open, done or all) and mark done or open again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import Router
from pydantic import BaseModel, ConfigDict

from ...actions import tasks
from . import shop_of

router = Router()


class TaskChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "done"]


@router.get("/v1/shops/<shop>/tasks", summary="The shop's tasks, newest first (?state=open|done, ?limit, ?next)")
def list_tasks(shop: str) -> dict[str, Any]:
    q = router.current_event.query_string_parameters or {}
    limit = q.get("limit", "50")
    return tasks.list_tasks(
        shop_of(router).id, state=q.get("state"), limit=int(limit) if limit.isdigit() else 50, token=q.get("next")
    )


@router.patch("/v1/shops/<shop>/tasks/<task_id>", summary="Mark a task done (or open again)")
def update_task(shop: str, task_id: str, change: Annotated[TaskChange, Body()]) -> dict[str, Any]:
    return tasks.set_task_state(shop_of(router).id, task_id, change.state)
