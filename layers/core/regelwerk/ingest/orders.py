"""Order events in: deduplicate, store, evaluate the shop's rules, hand the actions on, log the run.

One event is processed once, whatever the retries:

1. one TransactGetItems reads the stored order, its customer and this event's run;
2. if the run exists and is queued, the event is a duplicate: nothing happens again;
3. else the rules are evaluated and one TransactWriteItems writes the order, the customer,
   the run (with the planned messages) and any frequency-limit claims, all or nothing;
4. the messages go out with SendMessageBatch, and the run is marked queued (``run_writer``).

A crash between 3 and 4 leaves a run that is not yet queued: the shop's retry finds it and
sends its stored messages again (the handlers deduplicate on the action id).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.transactions import TransactGet

from ..clients import connection
from ..engine.context import rule_context
from ..engine.customer_actions import apply_customer_actions
from ..engine.evaluate import article_results, evaluate
from ..model.customer import apply_order, customer_id_for, spend_change
from ..model.messages import dumps
from ..model.order import Order, Refund
from ..model.shop import Shop
from ..store.customers import customer_from_item, upsert_write
from ..store.orders import index_order, order_of
from ..store.rules import load_rules
from ..store.shops import customer_id_key
from ..store.tables import CustomerItem, OrderItem, RunItem, found, get_or_none
from .run_writer import MAX_ATTEMPTS, IngestResult, Results, Write, backoff, commit_run, resume

# What a shop owner calls an order's events, each a fact the order shows: it fires the first time
# Regelwerk sees the order in that state, on import as on an update, and never again for that order
# (paid -> on_hold -> paid is paid once). The facts already announced are kept on the order item.
ORDER_FACTS: tuple[tuple[str, str], ...] = (
    ("paid", "order.paid"),
    ("shipped", "order.shipped"),
    ("cancelled", "order.cancelled"),
)


def order_facts(order: Order) -> frozenset[str]:
    """The facts (``paid``, ``shipped``, ``cancelled``) this order shows, by its dates or its status."""
    facts = set()
    if order.paid_at is not None or order.status == "paid":
        facts.add("paid")
    if order.shipped_at is not None or order.status == "shipped":
        facts.add("shipped")
    if order.status == "cancelled":
        facts.add("cancelled")
    return frozenset(facts)


def derive_events(previous: Order | None, order: Order, announced: frozenset[str] | None = None) -> list[str]:
    """The trigger events an order event shows, in the order rules see them.

    A first-seen order is ``order.imported``, then ``order.paid``, ``order.shipped``,
    ``order.cancelled`` for each fact it already shows; an update fires ``order.status_changed``
    when the status changed and each fact not announced before. ``announced`` is what the order
    item remembers; ``None`` (an order stored before it remembered) means what ``previous`` shows.
    """
    if announced is None:
        announced = order_facts(previous) if previous is not None else frozenset()
    if previous is None:
        events = ["order.imported"]
    else:
        events = ["order.status_changed"] if order.status != previous.status else []
    facts = order_facts(order)
    return events + [event for fact, event in ORDER_FACTS if fact in facts and fact not in announced]


def new_refunds(previous: Order | None, order: Order) -> list[Refund]:
    """The refunds this event shows for the first time: each fires ``order.refunded`` once."""
    seen = {r.id for r in previous.refunds} if previous is not None else set()
    return [r for r in order.refunds if r.id not in seen]


def _announced(stored: OrderItem | None, previous: Order | None) -> frozenset[str]:
    """The facts already announced for an order: none for a new one; for an item stored before
    items remembered them, the facts its stored order shows (as the events then fired)."""
    if stored is None or previous is None:
        return frozenset()
    return frozenset(stored.announced) if stored.announced else order_facts(previous)


# The context travels in every queued message (SQS: 256 KB each) and, until queued, in the run
# item (DynamoDB: 400 KB): a platform body rides along only while it stays well inside both.
RAW_MAX_BYTES = 64 * 1024
RAW_BUDGET_BYTES = 160 * 1024


def _raw_for_messages(results: Results, raw: dict[str, Any]) -> Results:
    """The results with ``event.raw`` left out of the messages' context when it is too big to carry.

    Conditions were already evaluated on the full body; templates then see ``event.raw`` as
    null and ``event.raw_omitted`` says why.
    """
    copies = sum(1 for _, _, outs in results for o in outs for a in o.actions if not a.waiting)
    size = len(dumps(raw).encode())
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
    discrepancy = order.discrepancy()  # stored as sent all the same: the platform's figures are what was charged
    suppressed: dict[str, str] = {}  # rule id -> reason, from limit claims that lost
    for attempt in range(MAX_ATTEMPTS):
        backoff(attempt)
        id_key = customer_id_key(shop.id)
        provisional_cid = customer_id_for(shop.id, order, shop.customer_matching, id_key)
        # a customer stored before the shop had its key keeps the legacy id: read both in the one TransactGet
        legacy_cid = customer_id_for(shop.id, order, shop.customer_matching) if id_key else provisional_cid
        with TransactGet(connection=connection()) as tg:
            f_order = tg.get(OrderItem, shop.id, order.id)
            f_run = tg.get(RunItem, shop.id, run_id)
            f_customer = tg.get(CustomerItem, shop.id, provisional_cid)
            f_legacy = tg.get(CustomerItem, shop.id, legacy_cid) if legacy_cid != provisional_cid else None
        stored_order = found(f_order)
        stored_run = found(f_run)
        if stored_run is not None:
            return resume(stored_run, event_id)
        by_key, by_legacy = found(f_customer), found(f_legacy) if f_legacy is not None else None
        if stored_order:
            customer_id = stored_order.customer_id
        else:
            customer_id = legacy_cid if by_key is None and by_legacy is not None else provisional_cid
        if customer_id == provisional_cid:
            stored_customer = by_key
        elif customer_id == legacy_cid and by_legacy is not None:
            stored_customer = by_legacy
        else:  # the order was matched to its customer earlier, on other data: keep that customer
            stored_customer = get_or_none(CustomerItem, shop.id, customer_id)

        previous = order_of(stored_order) if stored_order else None
        announced = _announced(stored_order, previous)
        note = None
        refunds: list[Refund] = []
        if previous and order.changed_at < previous.changed_at:
            events: list[str] = []
            note = "stale update ignored: the stored order changed later than this event"
        else:
            events = derive_events(previous, order, announced)
            refunds = new_refunds(previous, order)
        customer_before = customer_from_item(stored_customer) if stored_customer else None
        customer = apply_order(customer_before, customer_id, order, new_order=previous is None, previous=previous)

        rules = load_rules(shop.id)
        base_ctx = rule_context(shop, order=order, customer=customer, previous=previous)
        results: Results = []
        triggers = [(event_type, None) for event_type in events] + [("order.refunded", r) for r in refunds]
        for event_type, refund in triggers:
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
            if refund is not None:  # order.refunded: which refund, and whether nothing is left paid
                event["refund"] = refund.to_context(order.currency) | {"full": order.net_total <= 0}
            ctx = base_ctx | {"event": event}
            results.append((event_type, ctx, evaluate(rules, event_type, ctx, run_id)))
            if event_type == "order.paid":  # and once per line item, for rules on article.paid
                results.extend(article_results("article.paid", ctx["order"]["line_items"], rules, ctx, run_id))
        if raw is not None:
            results = _raw_for_messages(results, raw)

        # customer actions (set_customer_language, tag_customer) change the customer written below
        inline = apply_customer_actions(results, customer, order, skip=set(suppressed)) if note is None else {}
        writes: list[Write] = []
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
            index_order(order_item, order)  # the list's keys: time in UTC, number, channel
            # remembered, so each fact fires once even when the order leaves the state and returns
            order_item.announced = set(announced | order_facts(order)) or None
            writes = [
                # its version attribute makes this conditional
                lambda tx, item=order_item: tx.save(item),  # type: ignore[misc]  # mypy cannot infer lambdas with default args
                upsert_write(
                    shop.id,
                    customer,
                    order,
                    exists=stored_customer is not None,
                    new_order=previous is None,
                    spend=spend_change(previous, order),
                ),
            ]
        if not triggers and note is None:
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
            | ({"caused_by": caused_by} if caused_by else {})
            | ({"warnings": [discrepancy]} if discrepancy else {}),
            writes=writes,
            note=note,
            suppressed=suppressed,
            inline=inline,
            depth=int((caused_by or {}).get("depth", 0)),
        )
        if result is not None:
            return result
    raise RuntimeError("order event could not be applied after several attempts (heavy concurrent changes)")
