"""The actions queue's work: create_task, set_order_status, webhook and export.

Each is called through ``delivery.dispatch.deliver`` (claim, check, perform, record), like the mail,
SMS and PDF actions. All four are safe to do again after a crash: a task and a status change are
keyed on the action id, an export overwrites its fixed S3 key, and a webhook carries the action
id in ``Regelwerk-Delivery`` for the receiver to deduplicate on.
"""

from __future__ import annotations

from collections.abc import Callable

from ..delivery.outcome import Outcome
from ..errors import ActionFailed
from ..model.messages import ActionMessage
from .exports import export
from .order_status import set_order_status
from .tasks import create_task
from .webhooks import send_webhook

ON_THE_ACTIONS_QUEUE: dict[str, Callable[[ActionMessage], Outcome]] = {
    "create_task": create_task,
    "set_order_status": set_order_status,
    "webhook": send_webhook,
    "export": export,
}


def perform(msg: ActionMessage) -> Outcome:
    """Perform one action of the actions queue."""
    handler = ON_THE_ACTIONS_QUEUE.get(msg.kind)
    if handler is None:
        raise ActionFailed(f"the actions queue does not carry {msg.kind!r} actions")
    return handler(msg)
