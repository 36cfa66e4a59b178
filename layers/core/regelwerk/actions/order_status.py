"""The set_order_status action: move an order to a status, as if the shop had changed it.

The change goes through the same ingest as a shop's own update (``process_order``), so it emits
``order.status_changed`` (and ``order.paid``/``order.shipped``/``order.cancelled`` where they apply)
and other rules may act on it. Its event id is made from the action id: a redelivered action
finds the run it made. Each change carries the chain's depth; at ``MAX_CHAIN_DEPTH`` status
changes in a row made by rules, the next one is not made and the run log says so (two rules
that set statuses back and forth stop there instead of running forever).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..delivery.outcome import Outcome
from ..engine.evaluate import MAX_CHAIN_DEPTH
from ..errors import ActionFailed
from ..ingest.orders import process_order
from ..ingest.run_writer import event_id_for
from ..model.messages import ActionMessage
from ..store.orders import order_of
from ..store.shops import get_shop
from ..store.tables import OrderItem


def set_order_status(msg: ActionMessage) -> Outcome:
    target = msg.action["status"]
    depth = msg.depth
    if depth >= MAX_CHAIN_DEPTH:
        return Outcome(
            state="stopped",
            detail={
                "reason": f"loop stopped: this would be the {depth + 1}th status change in a row made by rules "
                f"(the limit is {MAX_CHAIN_DEPTH}); the order keeps its status",
            },
        )
    order_id = (msg.context.get("order") or {}).get("id")
    if not order_id:
        raise ActionFailed("set_order_status needs an order event")
    shop_id = msg.shop_id
    try:
        stored = OrderItem.get(shop_id, order_id, consistent_read=True)
    except OrderItem.DoesNotExist as exc:
        raise ActionFailed(f"order {order_id!r} is not stored") from exc
    order = order_of(stored)
    event_id = event_id_for(shop_id, "rule", msg.action_id, b"")
    planned_on = (msg.context.get("order") or {}).get("updated_at") or msg.context["order"]["created_at"]
    if stored.applied_event_id != event_id and order.changed_at > datetime.fromisoformat(planned_on):
        # the shop changed the order after the event this rule acted on: its newer state wins
        reason = f"not changed: the order was updated after this rule fired (it is now {order.status})"
        return Outcome(state="skipped", detail={"reason": reason})
    if order.status == target and stored.applied_event_id != event_id:
        return Outcome(
            state="done", output={"status": target}, detail={"note": f"the order already had status {target}"}
        )
    # stamped just after the change that caused it, on the shop's clock: a later update from the shop
    # (its own status change, made after this) still wins, and an older one stays stale
    changed = order.model_copy(update={"status": target, "updated_at": order.changed_at + timedelta(milliseconds=1)})
    caused_by = {"run_id": msg.run_id, "rule": msg.rule_id, "action_id": msg.action_id, "depth": depth + 1}
    result = process_order(get_shop(shop_id), changed, event_id=event_id, platform="rule", caused_by=caused_by)
    return Outcome(
        provider_id=result.run_id,
        state="done",
        output={"status": target, "previous_status": order.status, "run_id": result.run_id},
        detail={"note": f"status {order.status} -> {target}; rules fired: {', '.join(result.fired) or 'none'}"},
    )
