"""The actions queue's work: create_task, set_order_status, webhook and export, and releasing delayed actions.

Each ``perform_*`` is called through ``delivery.deliver`` (claim, perform, record), like the mail,
SMS and PDF actions. All four are safe to do again after a crash: a task and a status change are
keyed on the action id, an export overwrites its fixed S3 key, and a webhook carries the action
id in ``Regelwerk-Delivery`` for the receiver to deduplicate on.
"""

from __future__ import annotations

from typing import Any

from .delivery import Outcome
from .errors import ActionFailed
from .settings import settings


def perform(msg: dict[str, Any]) -> Outcome:
    kind = msg["action"]["type"]
    if kind == "create_task":
        from .tasks import create_task

        return create_task(msg)
    if kind == "set_order_status":
        from .order_status import set_order_status

        return set_order_status(msg)
    if kind == "webhook":
        return send_webhook(msg)
    if kind == "export":
        return export(msg)
    raise ActionFailed(f"the actions queue does not carry {kind!r} actions")


def webhook_body(msg: dict[str, Any]) -> bytes:
    """What a webhook receives: the event, its context and the outputs of earlier actions, as JSON."""
    from .queue import dumps

    ctx = msg["context"]
    event = {k: v for k, v in (ctx.get("event") or {}).items() if k != "raw"}
    body = {
        "id": msg["action_id"],
        "type": msg["event_type"],
        "shop_id": msg["shop_id"],
        "rule": msg["rule_id"],
        "run_id": msg["run_id"],
        "event": event,
        "order": ctx.get("order"),
        "customer": ctx.get("customer"),
        "invoice": ctx.get("invoice"),
        "outputs": msg.get("outputs") or {},
    }
    return dumps(body).encode()


def send_webhook(msg: dict[str, Any]) -> Outcome:
    from .adapters.signatures import SecretUnavailable, resolve
    from .shop import SecretRef
    from .webhooks import WebhookFailed, WebhookRefused, allow_hosts_from, post_webhook

    action = msg["action"]
    try:
        secret = resolve(SecretRef.model_validate(action["secret"]))
    except SecretUnavailable as exc:
        raise ActionFailed(f"webhook secret: {exc}") from exc
    allowed = allow_hosts_from(settings().webhook_allow_hosts)
    try:
        result = post_webhook(
            action["url"], webhook_body(msg), secret=secret, delivery_id=msg["action_id"], allow_hosts=allowed
        )
    except WebhookRefused as exc:
        raise ActionFailed(f"webhook refused: {exc}") from exc
    except WebhookFailed as exc:
        raise ActionFailed(f"webhook failed: {exc}") from exc
    return Outcome(
        provider_id=f"HTTP {result.status}",
        output={"status": result.status, "url": result.url},
        detail={"attempts_in_call": result.attempts},
    )


def export(msg: dict[str, Any]) -> Outcome:
    from datetime import UTC, datetime

    from .exports import run_export

    action, ctx = msg["action"], msg["context"]
    # the window counts from the schedule slot the run stands for (the 1st of the month), else from when
    # the action was planned: a redone export covers the same days
    slot = (ctx.get("event") or {}).get("schedule_slot")
    now = datetime.fromisoformat(
        (slot or msg.get("planned_at") or datetime.now(UTC).isoformat()).replace("Z", "+00:00")
    )
    zone = (ctx.get("shop") or {}).get("time_zone") or "UTC"
    output = run_export(msg["shop_id"], msg["action_id"], action["of"], action.get("window", "last_month"), now, zone)
    return Outcome(provider_id=output["key"], output=output, detail={"rows": output["rows"]})
