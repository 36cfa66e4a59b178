"""Tasks for the shop's team (Wix's and Bitrix24's "create a task"): made by the create_task action.

A task is keyed on the action that made it, so a redelivered action finds its task instead of
making a second one. Listed, and marked done, through the admin API.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from ..delivery.outcome import Outcome
from ..documents.templates import choose_language, render
from ..engine.rule import parse_duration
from ..errors import InvalidInput, NotFound, Problem
from ..model.messages import ActionMessage
from ..store import paging
from ..store.tables import TaskItem

STATES = ("open", "done")


def _task_id(msg: ActionMessage) -> str:
    created = datetime.fromisoformat(msg.planned_at or datetime.now(UTC).isoformat()).astimezone(UTC)
    return f"{created:%Y%m%dT%H%M%S}-{hashlib.sha256(msg.action_id.encode()).hexdigest()[:12]}"


def create_task(msg: ActionMessage) -> Outcome:
    """Perform a create_task action: render title and body in the sandbox and store the task once."""
    action, ctx = msg.action, dict(msg.context)
    ctx["outputs"] = dict(msg.outputs)
    language = choose_language(ctx, lambda _lang: True) or "en"
    parts = render(
        {"title": action["title"], "text": action.get("body") or ""}, ctx, language=language, parts=("title", "text")
    )
    now = datetime.now(UTC)
    order = ctx.get("order") or {}
    doc = {
        "title": parts["title"].strip()[:200],
        "body": parts.get("text") or None,
        "assignee": action.get("assignee"),
        "due": (now + parse_duration(action["due"])).isoformat() if action.get("due") else None,
        "created_at": now.isoformat(),
        "rule": msg.rule_id,
        "run_id": msg.run_id,
        "order_id": order.get("id"),
        "order_number": order.get("number"),
        "customer_id": (ctx.get("customer") or {}).get("id"),
    }
    task_id = _task_id(msg)
    try:
        TaskItem(msg.shop_id, task_id, document=json.dumps(doc), state="open", updated_at=doc["created_at"]).save(
            condition=TaskItem.task_id.does_not_exist()
        )
    except PutError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise
        # made by an earlier delivery of this action: keep it as it is
    return Outcome(provider_id=task_id, output={"task_id": task_id, "title": doc["title"]}, state="done")


def _entry(item: TaskItem) -> dict[str, Any]:
    return {"id": item.task_id, "state": item.state, "updated_at": item.updated_at, **json.loads(item.document)}


def list_tasks(shop_id: str, *, state: str | None = None, limit: int = 50, token: str | None = None) -> dict[str, Any]:
    """The shop's tasks, newest first, optionally only open or done ones; paged with ``next``."""
    if state is not None and state not in STATES:
        raise InvalidInput("invalid filter", [Problem("$.state", f"must be one of {', '.join(STATES)}")])
    limit = max(1, min(limit, 200))
    scope = paging.scope_of("tasks", state=state)
    items = TaskItem.query(
        shop_id,
        filter_condition=(TaskItem.state == state) if state else None,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=paging.decode(shop_id, token, scope),  # signed for this shop and list: else 400
    )
    tasks = [_entry(i) for i in items]
    nxt = paging.encode(shop_id, items.last_evaluated_key, scope)
    return {"tasks": tasks, "next": nxt}


def set_task_state(shop_id: str, task_id: str, state: str) -> dict[str, Any]:
    if state not in STATES:
        raise InvalidInput("invalid task", [Problem("$.state", f"must be one of {', '.join(STATES)}")])
    try:
        TaskItem(shop_id, task_id).update(
            actions=[TaskItem.state.set(state), TaskItem.updated_at.set(datetime.now(UTC).isoformat())],
            condition=TaskItem.task_id.exists(),
        )
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise NotFound(f"no task {task_id!r}") from exc
        raise
    return _entry(TaskItem.get(shop_id, task_id, consistent_read=True))
