"""What crosses a queue or a table: the typed contracts between the engine and every action handler.

* ``ActionMessage``: one planned action, as the run writer hands it to the mail, SMS, PDF and actions
  queues and as every handler reads it. It carries everything its handler needs (the action, the
  context snapshot, what follows in sequential mode), so a handler reads nothing else to do its work.
  Its ``action_id`` is stable across retries: the delivery ledger deduplicates on it.
* ``SchedulerPointer``: what an EventBridge Scheduler one-time schedule puts on the actions queue when a
  delayed action comes due (the message itself waits in the idempotency table).
* ``DeliveryEntry``: one action's line in the run log (``RunItem.deliveries[action id]``).

Each has one ``to_message()`` / ``from_message()`` pair, and the JSON they make is the wire format
messages had before these types existed: a message already on a queue, in a delayed item or in a run
log when a new version is deployed is read as it was written (``tests/unit/model/test_messages.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact JSON with Decimal amounts as strings and times as ISO text: every queue and table body."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


# the keys every action message has carried since the first version, in the order they are written
_REQUIRED = ("shop_id", "run_id", "event_type", "action_id", "rule_id", "rule_version", "action", "context")


@dataclass(slots=True)
class ActionMessage:
    """One planned action on its way to its handler."""

    shop_id: str
    run_id: str
    event_type: str
    action_id: str
    rule_id: str
    rule_version: int
    action: dict[str, Any]
    context: dict[str, Any]
    then: list[dict[str, Any]] = field(default_factory=list)  # sequential mode: what follows on success
    outputs: dict[str, Any] = field(default_factory=dict)  # outputs of earlier actions, by their `as` name
    depth: int = 0  # status changes in a row made by rules (set_order_status chains)
    planned_at: str | None = None  # ISO time: delays count from here, whatever the retries
    throttled: int | None = None  # how often the provider throttled it (then put back with a pause)
    delay_seconds: int | None = None  # a throttled message's pause on its queue
    delayed_from: str | None = None  # a delayed action: when it was due
    release_note: str | None = None  # a delayed action: what was decided when it came due
    context_ref: str | None = None  # a large context parked in S3 (store/contexts.py); context is then read back
    extra: dict[str, Any] = field(default_factory=dict)  # keys a newer or older writer added: kept as they are

    @classmethod
    def plan(
        cls,
        *,
        shop_id: str,
        run_id: str,
        event_type: str,
        action_id: str,
        rule_id: str,
        rule_version: int,
        action: dict[str, Any],
        context: dict[str, Any],
        then: list[dict[str, Any]] | None = None,
        outputs: dict[str, Any] | None = None,
        depth: int = 0,
        now: datetime | None = None,
    ) -> ActionMessage:
        """A new message, stamped with when it was planned."""
        return cls(
            shop_id=shop_id,
            run_id=run_id,
            event_type=event_type,
            action_id=action_id,
            rule_id=rule_id,
            rule_version=rule_version,
            action=action,
            context=context,
            then=list(then or []),
            outputs=dict(outputs or {}),
            depth=depth,
            planned_at=(now or datetime.now(UTC)).isoformat(),
        )

    @property
    def kind(self) -> str:
        """The action's type (``email``, ``sms``, ``pdf``, ``webhook`` ...)."""
        return str(self.action["type"])

    @property
    def delay(self) -> str | None:
        """The action's own delay (``7d``), while it has not been served."""
        delay = self.action.get("delay")
        return str(delay) if delay else None

    def parked(self, ref: str) -> ActionMessage:
        """The same message with its context left at ``ref`` (it travels without it)."""
        return replace(self, context={}, context_ref=ref)

    def without_delay(self) -> ActionMessage:
        """The same message with its delay served (released when due, or put back after a throttle)."""
        return replace(self, action={k: v for k, v in self.action.items() if k != "delay"})

    def to_message(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "shop_id": self.shop_id,
            "run_id": self.run_id,
            "event_type": self.event_type,
            "action_id": self.action_id,
            "rule_id": self.rule_id,
            "rule_version": self.rule_version,
            "action": self.action,
            "context": {} if self.context_ref else self.context,  # a parked context travels as its reference
            "then": self.then,
            "outputs": self.outputs,
            "depth": self.depth,
        }
        for key in ("planned_at", "throttled", "delay_seconds", "delayed_from", "release_note", "context_ref"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body | self.extra

    @classmethod
    def from_message(cls, data: Mapping[str, Any]) -> ActionMessage:
        """Read a message body (already parsed JSON); KeyError names a key a message cannot lack."""
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise KeyError(f"not an action message: missing {', '.join(missing)}")
        known = {f.name for f in fields(cls)} - {"extra"}
        throttled = data.get("throttled")
        delay_seconds = data.get("delay_seconds")
        return cls(
            shop_id=str(data["shop_id"]),
            run_id=str(data["run_id"]),
            event_type=str(data["event_type"]),
            action_id=str(data["action_id"]),
            rule_id=str(data["rule_id"]),
            rule_version=int(data["rule_version"]),
            action=dict(data["action"]),
            context=dict(data["context"] or {}),
            then=list(data.get("then") or []),
            outputs=dict(data.get("outputs") or {}),
            depth=int(data.get("depth") or 0),
            planned_at=data.get("planned_at"),
            throttled=None if throttled is None else int(throttled),
            delay_seconds=None if delay_seconds is None else int(delay_seconds),
            delayed_from=data.get("delayed_from"),
            release_note=data.get("release_note"),
            context_ref=data.get("context_ref"),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def dumps(self) -> str:
        return dumps(self.to_message())


@dataclass(frozen=True, slots=True)
class SchedulerPointer:
    """The input of a delayed action's one-time schedule: which stored message is due."""

    action_id: str
    shop_id: str
    run_id: str

    def to_message(self) -> dict[str, str]:
        return {"delayed": self.action_id, "shop_id": self.shop_id, "run_id": self.run_id}

    @classmethod
    def from_message(cls, data: Mapping[str, Any]) -> SchedulerPointer:
        return cls(
            action_id=str(data["delayed"]), shop_id=str(data.get("shop_id", "")), run_id=str(data.get("run_id", ""))
        )

    @staticmethod
    def is_pointer(data: Mapping[str, Any]) -> bool:
        return "delayed" in data


@dataclass(slots=True)
class DeliveryEntry:
    """One action's state in the run log: what happened to it, when, and why.

    ``state`` is one of queued, waiting, delayed, sending, sent, done, skipped, stopped, cancelled,
    throttled, failed, unconfirmed, dead_lettered. What else an entry says (the provider's id, the
    attempts, the reason, what a handler reported) travels in ``detail`` and is written flat beside
    the state, as it always was.
    """

    state: str
    rule: str
    type: str
    event: str
    at: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, msg: ActionMessage, state: str, at: datetime | None = None, **detail: Any) -> Self:
        """This message's entry in the given state; ``None`` details are left out."""
        return cls(
            state=state,
            rule=msg.rule_id,
            type=msg.kind,
            event=msg.event_type,
            at=(at or datetime.now(UTC)).isoformat(),
            detail={k: v for k, v in detail.items() if v is not None},
        )

    def to_message(self) -> dict[str, Any]:
        body: dict[str, Any] = {"state": self.state, "rule": self.rule, "type": self.type, "event": self.event}
        if self.at is not None:
            body["at"] = self.at
        return body | self.detail

    @classmethod
    def from_message(cls, data: Mapping[str, Any]) -> DeliveryEntry:
        base = ("state", "rule", "type", "event", "at")
        return cls(
            state=str(data.get("state", "")),
            rule=str(data.get("rule", "")),
            type=str(data.get("type", "")),
            event=str(data.get("event", "")),
            at=data.get("at"),
            detail={k: v for k, v in data.items() if k not in base},
        )
