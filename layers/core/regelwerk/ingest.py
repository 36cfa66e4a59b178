"""Order events in: validate, deduplicate, store, evaluate the shop's rules, queue the actions, log the run.

One event is processed once, whatever the retries:

1. one TransactGetItems reads the stored order, its customer and this event's run;
2. if the run exists and is queued, the event is a duplicate: nothing happens again;
3. else the rules are evaluated and one TransactWriteItems writes the order, the customer,
   the run (with the planned messages) and any frequency-limit claims, all or nothing;
4. the messages go out with SendMessageBatch, and the run is marked queued.

A crash between 3 and 4 leaves a run that is not yet queued: the shop's retry finds it and
sends its stored messages again (the handlers deduplicate on the action id).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from . import queue
from .context import rule_context
from .customer import apply_order, customer_id_for
from .customer_actions import apply_customer_actions
from .engine import RuleOutcome, article_results, evaluate
from .errors import InvalidInput, MalformedBody, PayloadTooLarge, pydantic_problems
from .order import Order, OrderEvent
from .settings import settings
from .shop import Shop
from .store.customers import customer_from_item, upsert_write
from .store.rules import load_rules
from .store.tables import CustomerItem, LedgerItem, OrderItem, RunItem, connection

_MAX_ATTEMPTS = 60  # optimistic locking: under heavy contention on one customer, retry with jittered backoff


def _backoff(attempt: int) -> None:
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


def parse_json(raw: bytes) -> Any:
    if len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {settings().max_body_bytes}")
    try:
        return json.loads(raw, parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise MalformedBody("body is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise MalformedBody("JSON nested too deeply") from exc


def parse_order_event(raw: bytes) -> OrderEvent:
    """The canonical order event from raw bytes: 400 for broken JSON, 413 when too big, 422 naming each field."""
    payload = parse_json(raw)
    if not isinstance(payload, dict):
        raise InvalidInput("the body must be a JSON object", [])
    try:
        return OrderEvent.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput("invalid order event", pydantic_problems(exc)) from exc


def event_id_for(shop_id: str, platform: str, delivery_key: str | None, raw: bytes) -> str:
    """A stable id for one delivery: the sender's id when it gives one, else the body's hash."""
    basis = delivery_key or "sha256:" + hashlib.sha256(raw).hexdigest()
    return "evt_" + hashlib.sha256(f"{shop_id}\x1f{platform}\x1f{basis}".encode()).hexdigest()[:26]


def derive_events(previous: Order | None, order: Order) -> list[str]:
    """The trigger events an order update shows: only changes an update really shows fire."""
    if previous is None:
        return ["order.imported"]
    events = []
    if order.status != previous.status:
        events.append("order.status_changed")
    became_paid = (order.paid_at and not previous.paid_at) or (order.status == "paid" != previous.status)
    if became_paid and previous.status != "paid" and not previous.paid_at:
        events.append("order.paid")
    became_shipped = (order.shipped_at and not previous.shipped_at) or (order.status == "shipped" != previous.status)
    if became_shipped and previous.status != "shipped" and not previous.shipped_at:
        events.append("order.shipped")
    if order.status == "cancelled" != previous.status:
        events.append("order.cancelled")
    return events


# The context travels in every queued message (SQS: 256 KB each) and, until queued, in the run
# item (DynamoDB: 400 KB): a platform body rides along only while it stays well inside both.
RAW_MAX_BYTES = 64 * 1024
RAW_BUDGET_BYTES = 160 * 1024


def _raw_for_messages(
    results: list[tuple[str, dict[str, Any], list[RuleOutcome]]], raw: dict[str, Any]
) -> list[tuple[str, dict[str, Any], list[RuleOutcome]]]:
    """The results with ``event.raw`` left out of the messages' context when it is too big to carry.

    Conditions were already evaluated on the full body; templates then see ``event.raw`` as
    null and ``event.raw_omitted`` says why.
    """
    copies = sum(1 for _, _, outs in results for o in outs for a in o.actions if not a.waiting)
    size = len(queue.dumps(raw).encode())
    if size <= RAW_MAX_BYTES and size * copies <= RAW_BUDGET_BYTES:
        return results
    reason = f"the platform body ({size} bytes) is too large to pass to {copies} action(s)"
    return [(t, ctx | {"event": ctx["event"] | {"raw": None, "raw_omitted": reason}}, outs) for t, ctx, outs in results]


def process_order(
    shop: Shop,
    order: Order,
    *,
    event_id: str,
    platform: str = "regelwerk",
    received_at: datetime | None = None,
    raw: dict[str, Any] | None = None,
    topic: str | None = None,
    caused_by: dict[str, Any] | None = None,
) -> IngestResult:
    """Run one order event through the shop's rules. Safe to call again with the same event id.

    ``raw`` is the platform's original body: conditions see it as ``event.raw`` and so do the
    queued actions' templates, unless it is too big to travel with every message (see
    ``_raw_for_messages``). It is never stored with the order. ``topic`` is the platform's
    event name (``orders/paid``), ``event.topic`` for rules.
    """
    received_at = received_at or datetime.now(UTC)
    run_id = event_id
    suppressed: dict[str, str] = {}  # rule id -> reason, from limit claims that lost
    for attempt in range(_MAX_ATTEMPTS):
        _backoff(attempt)
        provisional_cid = customer_id_for(shop.id, order, shop.customer_matching)
        with TransactGet(connection=connection()) as tg:
            f_order = tg.get(OrderItem, shop.id, order.id)
            f_run = tg.get(RunItem, shop.id, run_id)
            f_customer = tg.get(CustomerItem, shop.id, provisional_cid)
        stored_order = _maybe(f_order)
        stored_run = _maybe(f_run)
        if stored_run is not None:
            return _resume(stored_run, event_id)
        customer_id = stored_order.customer_id if stored_order else provisional_cid
        if customer_id == provisional_cid:
            stored_customer = _maybe(f_customer)
        else:  # the order was matched to its customer earlier, on other data: keep that customer
            stored_customer = _maybe_get(CustomerItem, shop.id, customer_id)

        previous = Order.model_validate_json(stored_order.document) if stored_order else None
        note = None
        if previous and order.changed_at < previous.changed_at:
            events: list[str] = []
            note = "stale update ignored: the stored order changed later than this event"
        else:
            events = derive_events(previous, order)
        customer_before = customer_from_item(stored_customer) if stored_customer else None
        customer = apply_order(customer_before, customer_id, order, new_order=previous is None)

        rules = load_rules(shop.id)
        base_ctx = rule_context(shop, order=order, customer=customer, previous=previous)
        results: list[tuple[str, dict[str, Any], list[RuleOutcome]]] = []
        for event_type in events:
            event = {
                "id": event_id,
                "type": event_type,
                "received_at": received_at.isoformat(),
                "platform": platform,
                "topic": topic,
                "status": order.status,
                "previous_status": previous.status if previous else None,
                "raw": raw,
                "caused_by": caused_by,
            }
            ctx = base_ctx | {"event": event}
            results.append((event_type, ctx, evaluate(rules, event_type, ctx, run_id)))
            paid_now = event_type == "order.paid" or (event_type == "order.imported" and order.paid_at is not None)
            if paid_now:  # and once per line item, for rules on article.paid
                results.extend(article_results("article.paid", ctx["order"]["line_items"], rules, ctx, run_id))
        if raw is not None:
            results = _raw_for_messages(results, raw)

        # customer actions (set_customer_language, tag_customer) change the customer written below
        inline = apply_customer_actions(results, customer, order, skip=set(suppressed)) if note is None else {}
        writes: list[Callable[[Any], None]] = []
        if note is None:
            order_item = stored_order or OrderItem(shop.id, order.id)
            order_item.status = order.status
            order_item.customer_id = customer_id
            # key of the OrdersTable GSI "by-customer" (customer API and portal list a customer's orders
            # with a Query instead of a Scan); the shop id in it keeps the index shop-scoped
            order_item.customer_key = f"{shop.id}#{customer_id}"
            order_item.changed_at = order.changed_at.isoformat()
            order_item.created_at = order.created_at.isoformat()
            order_item.applied_event_id = event_id
            order_item.document = order.model_dump_json()
            writes = [
                lambda tx, item=order_item: tx.save(item),  # its version attribute makes this conditional
                upsert_write(shop.id, customer, order, exists=stored_customer is not None, new_order=previous is None),
            ]
        if not events and note is None:
            note = "order unchanged: no trigger event"
        result = commit_run(
            shop,
            run_id=run_id,
            platform=platform,
            received_at=received_at,
            results=results,
            rules=rules,
            customer_id=customer_id,
            subject={"order_id": order.id, "order_number": order.number}
            | ({"caused_by": caused_by} if caused_by else {}),
            writes=writes,
            note=note,
            suppressed=suppressed,
            inline=inline,
            depth=int((caused_by or {}).get("depth", 0)),
        )
        if result is not None:
            return result
    raise RuntimeError("order event could not be applied after several attempts (heavy concurrent changes)")


def commit_run(
    shop: Shop,
    *,
    run_id: str,
    platform: str,
    received_at: datetime,
    results: list[tuple[str, dict[str, Any], list[RuleOutcome]]],
    rules: list,
    customer_id: str | None,
    subject: dict[str, Any],
    writes: list[Callable[[Any], None]],
    note: str | None,
    suppressed: dict[str, str],
    inline: dict[str, dict[str, Any]] | None = None,
    depth: int = 0,
) -> IngestResult | None:
    """Write the run, the changed records and the limit claims in one transaction, then queue the actions.

    Returns None when the caller should evaluate again (a record changed concurrently or a
    frequency-limit claim was lost; ``suppressed`` then says which rules to hold back).
    """
    claims = _limit_claims(shop, rules, results, customer_id, received_at, suppressed) if customer_id else []
    messages, deliveries = _messages(shop, run_id, results, inline, depth)
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
        "pending": messages,
    }
    fired_ids = sorted({o.rule_id for _, _, outs in results for o in outs if o.fired})
    run_item = RunItem(
        shop.id,
        run_id,
        fired="," + ",".join(fired_ids) + "," if fired_ids else None,
        received_at=received_at.isoformat(),
        state="evaluated",
        event_type=",".join(events) or "none",
        order_id=subject.get("order_id"),
        customer_id=customer_id,
        document=queue.dumps(run_doc),
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
        if _maybe_get(RunItem, shop.id, run_id) is not None:  # a concurrent delivery of this event won
            return IngestResult(run_id, run_id, duplicate=True, note="being processed by a concurrent delivery")
        for claim, _condition, rule_id in claims:
            held = _maybe_get(LedgerItem, claim.id, None)
            if held is not None and (held.expiration is None or held.expiration > received_at):
                suppressed[rule_id] = "frequency limit: already sent to this customer within the limit"
        return None  # a record changed concurrently or a limit claim was lost: evaluate again
    queue.send(messages)
    RunItem(shop.id, run_id).update(
        actions=[RunItem.state.set("queued"), RunItem.document.set(queue.dumps(run_doc | {"pending": []}))]
    )
    return IngestResult(run_id, run_id, events=events, fired=fired_ids, queued=len(messages), note=note)


def _maybe(future: Any) -> Any:
    try:
        return future.get()
    except Exception as exc:
        if type(exc).__name__ == "DoesNotExist":
            return None
        raise


def _maybe_get(model: Any, hash_key: str, range_key: str | None) -> Any:
    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except model.DoesNotExist:
        return None


def _limit_claims(
    shop: Shop, rules: list, results: list, customer_id: str, now: datetime, suppressed: dict[str, str]
) -> list[tuple[LedgerItem, Any, str]]:
    """Conditional ledger writes that let at most one event per customer pass a rule's frequency limit."""
    by_id = {c.rule.id: c.rule for c in rules}
    claims: dict[str, tuple[LedgerItem, Any, str]] = {}
    for _, _, outcomes in results:
        for outcome in outcomes:
            if not outcome.fired:
                continue
            rule = by_id[outcome.rule_id]
            window = rule.limit_window
            if window is None:
                continue
            if outcome.rule_id in suppressed:
                outcome.fired = False
                outcome.limit = suppressed[outcome.rule_id]
                outcome.reason = f"suppressed by {suppressed[outcome.rule_id]} ({_limit_text(rule)})"
                outcome.actions = []
                continue
            key = f"limit#{shop.id}#{rule.id}#{customer_id}"
            outcome.limit = f"passed: first within {_limit_text(rule)}"
            if key in claims:
                continue
            expires = None if window == timedelta.max else now + window
            item = LedgerItem(key, status="claimed", expiration=expires, updated_at=now.isoformat())
            condition = LedgerItem.id.does_not_exist() | (LedgerItem.expiration < now)
            claims[key] = (item, condition, rule.id)
    cap = _marketing_claim(shop, by_id, results, customer_id, now)
    if cap is not None:
        claims[cap[0].id] = cap
    return list(claims.values())


def _marketing_claim(
    shop: Shop, rules: dict[str, Any], results: list, customer_id: str, now: datetime
) -> tuple[LedgerItem, Any, str] | None:
    """The shop-wide marketing limit: how many marketing rules may still fire for this customer.

    The customer's recent marketing sends are one ledger item (``cap#<shop>#<customer>``), written
    in the event's transaction on the condition that nobody changed it since it was read: of two
    concurrent events, one retries and then sees the other's sends. Rules beyond the limit are held
    back with the reason in the run log; transactional rules never count.
    """
    import json
    import uuid

    from .rule import parse_duration

    limit = shop.marketing_limit
    if limit is None:
        return None
    marketing = [o for _, _, outs in results for o in outs if o.fired and rules[o.rule_id].category == "marketing"]
    if not marketing:
        return None
    window = parse_duration(limit.per)
    key = f"cap#{shop.id}#{customer_id}"
    held = _maybe_get(LedgerItem, key, None)
    sent = [t for t in json.loads(held.detail or "[]") if datetime.fromisoformat(t) > now - window] if held else []
    room = max(0, limit.max - len(sent))
    for outcome in marketing[room:]:
        outcome.fired = False
        outcome.actions = []
        outcome.limit = f"shop-wide marketing limit reached: {len(sent)} of {limit.max} per {limit.per}"
        outcome.reason = f"suppressed: at most {limit.max} marketing messages per customer per {limit.per}"
    if room == 0:
        return None
    for outcome in marketing[:room]:
        outcome.limit = f"marketing limit: {len(sent) + 1} of {limit.max} per {limit.per}"
    item = LedgerItem(
        key,
        status="cap",
        detail=json.dumps(sent + [now.isoformat()] * len(marketing[:room])),
        expiration=now + window,
        updated_at=f"{now.isoformat()}#{uuid.uuid4().hex[:8]}",  # the version the next writer checks
    )
    condition = LedgerItem.id.does_not_exist() if held is None else (LedgerItem.updated_at == held.updated_at)
    return item, condition, "marketing-limit"


def _limit_text(rule: Any) -> str:
    return rule.limit if isinstance(rule.limit, str) else f"once per customer per {rule.limit.once_per_customer_per}"


def _messages(
    shop: Shop, run_id: str, results: list, inline: dict[str, dict[str, Any]] | None = None, depth: int = 0
) -> tuple[list[tuple[str, dict]], dict[str, Any]]:
    from . import delays

    messages: list[tuple[str, dict]] = []
    deliveries: dict[str, Any] = {}
    for event_type, ctx, outcomes in results:
        for outcome in outcomes:
            for planned in outcome.actions:
                deliveries[planned.action_id] = {
                    "state": "waiting" if planned.waiting else "queued",
                    "rule": planned.rule_id,
                    "type": planned.action["type"],
                    "event": event_type,
                    "attempts": 0,
                }
                if planned.queue == "inline":  # applied in this transaction (customer_actions)
                    deliveries[planned.action_id] |= (inline or {}).get(
                        planned.action_id, {"state": "failed", "reason": "customer actions run on order events"}
                    )
                    continue
                if planned.waiting:
                    continue
                body = queue.message(
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


def _resume(run: RunItem, event_id: str) -> IngestResult:
    """A second delivery of an event: a no-op when its run is queued, else finish queuing its messages."""
    doc = json.loads(run.document)
    if run.state == "queued":
        return IngestResult(event_id, run.run_id, duplicate=True, events=[e["type"] for e in doc.get("events", [])])
    pending = [(q, m) for q, m in doc.get("pending", [])]
    queue.send(pending)
    RunItem(run.shop_id, run.run_id).update(
        actions=[RunItem.state.set("queued"), RunItem.document.set(queue.dumps(doc | {"pending": []}))]
    )
    return IngestResult(
        event_id,
        run.run_id,
        duplicate=True,
        queued=len(pending),
        note="earlier delivery was interrupted; its actions were queued now",
    )
