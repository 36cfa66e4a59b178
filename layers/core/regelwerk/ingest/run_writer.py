"""The run writer: every trigger (an order or invoice event, a schedule slot, a selection item, a dunning step)
ends here, in one record of what was decided and one hand-off of what was planned.

``commit_run`` writes the run, the changed records and the limit claims in one transaction, then
hands the planned actions on and marks the run queued. A crash in between leaves a run that is not
yet queued: the sender's retry finds it (``resume``) and hands its stored messages on again; the
delivery ledger deduplicates on the action id. Callers read, evaluate and call ``commit_run`` in an
optimistic loop (``MAX_ATTEMPTS``, ``backoff``): None from it means "read again and evaluate again".
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ..clients import connection
from ..delivery import delays
from ..delivery.handoff import hand_off
from ..engine.evaluate import RuleOutcome
from ..engine.rule import CompiledRule
from ..model.messages import ActionMessage, DeliveryEntry, dumps
from ..model.shop import Shop
from ..settings import settings
from ..store.contexts import slim
from ..store.runs import order_key, rule_list
from ..store.tables import LedgerItem, RunItem, get_or_none
from .limits import limit_claims

# one trigger event, its context, and what each rule decided
Results = list[tuple[str, dict[str, Any], list[RuleOutcome]]]
Write = Callable[[Any], None]  # one item of the run's transaction

MAX_ATTEMPTS = 60  # optimistic locking: under heavy contention on one customer, retry with jittered backoff


def backoff(attempt: int) -> None:
    """Sleep a jittered, growing moment before the next attempt (none before the first)."""
    if attempt:
        time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


@dataclass
class IngestResult:
    event_id: str
    run_id: str
    duplicate: bool = False
    events: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    queued: int = 0
    note: str | None = None

    @property
    def status_code(self) -> int:
        """202 when the event was taken in, 200 when it had been already (a retried delivery)."""
        return 200 if self.duplicate else 202

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": self.event_id,
            "run_id": self.run_id,
            "duplicate": self.duplicate,
            "events": self.events,
            "rules_fired": self.fired,
            "actions_queued": self.queued,
        }
        if self.note:
            body["note"] = self.note
        return body


def event_id_for(shop_id: str, platform: str, delivery_key: str | None, raw: bytes) -> str:
    """A stable id for one delivery: the sender's id when it gives one, else the body's hash."""
    basis = delivery_key or "sha256:" + hashlib.sha256(raw).hexdigest()
    return "evt_" + hashlib.sha256(f"{shop_id}\x1f{platform}\x1f{basis}".encode()).hexdigest()[:26]


def commit_run(
    shop: Shop,
    *,
    run_id: str,
    platform: str,
    received_at: datetime,
    results: Results,
    rules: list[CompiledRule],
    customer_id: str | None,
    subject: dict[str, Any],
    writes: list[Write],
    note: str | None,
    suppressed: dict[str, str],
    inline: dict[str, dict[str, Any]] | None = None,
    depth: int = 0,
) -> IngestResult | None:
    """Write the run, the changed records and the limit claims in one transaction, then queue the actions.

    Returns None when the caller should evaluate again (a record changed concurrently or a
    frequency-limit claim was lost; ``suppressed`` then says which rules to hold back).
    """
    claims = limit_claims(shop, rules, results, customer_id, received_at, suppressed) if customer_id else []
    messages, deliveries = _messages(shop, run_id, results, inline, depth)
    messages = slim(messages)  # the run item keeps them until queued: large contexts wait in S3, not in it
    events = [t for t, _, _ in results]
    run_doc = {
        "run_id": run_id,
        "event_id": run_id,
        "platform": platform,
        "received_at": received_at.isoformat(),
        **subject,
        "customer_id": customer_id,
        "note": note,
        "events": [{"type": t, "rules": [o.as_dict() for o in outs]} for t, _, outs in results],
        "pending": [(name, msg.to_message()) for name, msg in messages],
    }
    fired_ids = sorted({o.rule_id for _, _, outs in results for o in outs if o.fired})
    # a rule is evaluated in a run when the event was one it waits for (its conditions were checked)
    evaluated_ids = sorted({o.rule_id for _, _, outs in results for o in outs if o.trigger_matched})
    run_item = RunItem(
        shop.id,
        run_id,
        fired=rule_list(fired_ids),
        evaluated=rule_list(evaluated_ids),
        order_key=order_key(shop.id, subject.get("order_id"), subject.get("invoice_id")),
        received_at=received_at.isoformat(),
        state="evaluated",
        event_type=",".join(events) or "none",
        order_id=subject.get("order_id"),
        customer_id=customer_id,
        document=dumps(run_doc),
        deliveries=deliveries,
        expires_at=received_at + timedelta(days=settings().run_retention_days),
    )
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(run_item, condition=RunItem.run_id.does_not_exist())
            for write in writes:
                write(tx)
            for claim, condition, _rule_id in claims:
                tx.save(claim, condition=condition)
    except TransactWriteError as exc:
        if exc.cause_response_code != "TransactionCanceledException":
            raise
        # Which condition failed is read back from the table (the order of cancellation reasons
        # follows the request's item order, which PynamoDB groups by operation type).
        if get_or_none(RunItem, shop.id, run_id) is not None:  # a concurrent delivery of this event won
            return IngestResult(run_id, run_id, duplicate=True, note="being processed by a concurrent delivery")
        for claim, _condition, rule_id in claims:
            held = get_or_none(LedgerItem, claim.id)
            if held is not None and (held.expiration is None or held.expiration > received_at):
                suppressed[rule_id] = "frequency limit: already sent to this customer within the limit"
        return None  # a record changed concurrently or a limit claim was lost: evaluate again
    hand_off(messages)
    RunItem(shop.id, run_id).update(
        actions=[RunItem.state.set("queued"), RunItem.document.set(dumps(run_doc | {"pending": []}))]
    )
    return IngestResult(run_id, run_id, events=events, fired=fired_ids, queued=len(messages), note=note)


def _messages(
    shop: Shop, run_id: str, results: Results, inline: dict[str, dict[str, Any]] | None = None, depth: int = 0
) -> tuple[list[tuple[str, ActionMessage]], dict[str, Any]]:
    """The messages to hand on, and each planned action's first entry in the run log."""
    messages: list[tuple[str, ActionMessage]] = []
    deliveries: dict[str, Any] = {}
    for event_type, ctx, outcomes in results:
        for outcome in outcomes:
            for planned in outcome.actions:
                deliveries[planned.action_id] = DeliveryEntry(
                    state="waiting" if planned.waiting else "queued",
                    rule=planned.rule_id,
                    type=planned.action["type"],
                    event=event_type,
                    detail={"attempts": 0},
                ).to_message()
                if planned.queue == "inline":  # applied in this transaction (customer_actions)
                    deliveries[planned.action_id] |= (inline or {}).get(
                        planned.action_id, {"state": "failed", "reason": "customer actions run on order events"}
                    )
                    continue
                if planned.waiting:
                    continue
                body = ActionMessage.plan(
                    shop_id=shop.id,
                    run_id=run_id,
                    event_type=event_type,
                    action_id=planned.action_id,
                    rule_id=planned.rule_id,
                    rule_version=planned.rule_version,
                    action=planned.action,
                    context=ctx,
                    then=planned.then,
                    depth=depth,
                )
                if delays.is_long(body):
                    deliveries[planned.action_id] |= {"state": "delayed", "until": delays.due_at(body).isoformat()}
                messages.append((planned.queue, body))
    return messages, deliveries


def resume(run: RunItem, event_id: str) -> IngestResult:
    """A second delivery of an event: a no-op when its run is queued, else finish queuing its messages."""
    doc = json.loads(run.document)
    if run.state == "queued":
        return IngestResult(event_id, run.run_id, duplicate=True, events=[e["type"] for e in doc.get("events", [])])
    pending = [(q, ActionMessage.from_message(m)) for q, m in doc.get("pending", [])]
    hand_off(pending)
    RunItem(run.shop_id, run.run_id).update(
        actions=[RunItem.state.set("queued"), RunItem.document.set(dumps(doc | {"pending": []}))]
    )
    return IngestResult(
        event_id,
        run.run_id,
        duplicate=True,
        queued=len(pending),
        note="earlier delivery was interrupted; its actions were queued now",
    )
