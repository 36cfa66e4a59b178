"""The run log: one entry per event, with each action's delivery state and the run's status.

Written by the run writer (``ingest.run_writer``: the decision and the planned actions), by the
delivery ledger (``record_delivery``: each action's state as it goes), and by jobs that fan out
(``open_job_run`` / ``note_progress``); read back here for the API, the CLI and the digest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PutError, UpdateError

from ..errors import InvalidInput, NotFound, Problem
from ..model.messages import ActionMessage, DeliveryEntry, dumps
from ..observability import logger
from ..settings import settings
from . import paging
from .lookup import backfill
from .tables import RunItem

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition

# A run's status is derived from its actions' states when it is read, so it can never say
# "completed" while an action inside it failed.
_FAILED = {"failed", "dead_lettered", "unconfirmed"}
_OPEN = {"queued", "waiting", "sending", "delayed", "throttled"}


def run_status(state: str, deliveries: dict[str, Any]) -> str:
    states = {d.get("state") for d in deliveries.values()}
    if state != "queued":
        return "processing"
    if states & {"dead_lettered"}:
        return "dead_lettered"
    if states & _FAILED:
        return "failed" if not states & _OPEN else "retrying"
    if states & _OPEN:
        return "in_progress"
    return "completed"


def _entry(item: RunItem) -> dict[str, Any]:
    doc = json.loads(item.document)
    doc.pop("pending", None)
    deliveries = item.deliveries.as_dict() if hasattr(item.deliveries, "as_dict") else dict(item.deliveries or {})
    return doc | {"state": item.state, "status": run_status(item.state, deliveries), "deliveries": deliveries}


def get_run(shop_id: str, run_id: str) -> dict[str, Any]:
    try:
        return _entry(RunItem.get(shop_id, run_id, consistent_read=True))
    except RunItem.DoesNotExist as exc:
        raise NotFound(f"no run {run_id!r}") from exc


def list_runs(shop_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The shop's newest runs first (the by-received-at index)."""
    items = RunItem.by_time.query(shop_id, scan_index_forward=False, limit=limit)
    return [_entry(i) for i in items]


STATUSES = ("processing", "in_progress", "retrying", "completed", "failed", "dead_lettered")


def rule_list(rule_ids: list[str]) -> str | None:
    """Rule ids as the run item's ``fired`` / ``evaluated`` attribute (``,a,b,``), read by ``contains``."""
    return "," + ",".join(rule_ids) + "," if rule_ids else None


def order_key(shop_id: str, order_id: str | None, invoice_id: str | None = None) -> str | None:
    """The by-order index's key of a run about an order; a run about an invoice without an order is keyed
    by the invoice (``invoice:<id>``), so the invoice's page finds it too; None (not in the index) else."""
    if order_id:
        return f"{shop_id}#{order_id}"
    return f"{shop_id}#invoice:{invoice_id}" if invoice_id else None


def _rule_condition(rule: str | None, fired: bool | None) -> Condition | None:
    """Runs in which ``rule`` was evaluated, fired or not as ``fired`` says; without a rule, runs in which
    any rule fired (or none did). Runs written before ``evaluated`` existed show only the rules that fired."""
    if rule is None:
        if fired is None:
            return None
        return RunItem.fired.exists() if fired else RunItem.fired.does_not_exist()
    did_fire = RunItem.fired.contains(f",{rule},")
    if fired is True:
        return did_fire
    was_evaluated = RunItem.evaluated.contains(f",{rule},")
    if fired is False:
        return was_evaluated & ~did_fire
    return was_evaluated | did_fire


def search_runs(
    shop_id: str,
    *,
    event: str | None = None,
    order_id: str | None = None,
    invoice_id: str | None = None,
    customer_id: str | None = None,
    rule: str | None = None,
    fired: bool | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    token: str | None = None,
) -> dict[str, Any]:
    """The run log, newest first, filtered; ``next`` is a signed token for the following page.

    ``rule`` finds the runs in which that rule was evaluated, ``fired`` those in which it fired (true) or
    did not (false), so "why did X not fire for order 1001" is ``order`` + ``rule`` + ``fired=false``.
    With ``order`` the by-order index is read (that order's runs only; ``invoice_id`` for an invoice without
    an order), else the shop's log by time."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("invalid filter", [Problem("$.status", f"one of {', '.join(STATUSES)}")])
    key_condition: Condition | None = None
    if since and until:
        key_condition = RunItem.received_at.between(since, until)
    elif since:
        key_condition = RunItem.received_at >= since
    elif until:
        key_condition = RunItem.received_at <= until
    conditions: list[Condition | None] = [_rule_condition(rule, fired)]
    if event:
        conditions.append(RunItem.event_type.contains(event))
    if customer_id:
        conditions.append(RunItem.customer_id == customer_id)
    filter_condition: Condition | None = None
    for c in conditions:
        if c is not None:
            filter_condition = c if filter_condition is None else filter_condition & c
    index: Any = RunItem.by_time
    hash_key, scope = shop_id, "runs"
    subject = order_key(shop_id, order_id, invoice_id)
    if subject:
        index, hash_key, scope = RunItem.by_order, subject, f"runs:by-order:{subject}"
    scope += f":{since}:{until}"  # a token starts where its own key range left off, never outside another's
    scope = paging.scope_of(scope, event=event, customer=customer_id, rule=rule, fired=fired, status=status)
    results = index.query(
        hash_key,
        range_key_condition=key_condition,
        filter_condition=filter_condition,
        scan_index_forward=False,
        limit=max(1, min(limit, 200)),
        last_evaluated_key=paging.decode(shop_id, token, scope),
    )
    items = list(results)
    if subject:  # the index holds the filters' attributes only: the runs themselves by id
        full = {i.run_id: i for i in RunItem.batch_get([(shop_id, i.run_id) for i in items])}
        items = [full[i.run_id] for i in items if i.run_id in full]
    runs = [_entry(i) for i in items]
    if status:
        runs = [r for r in runs if r["status"] == status]
    return {"runs": runs, "next": paging.encode(shop_id, results.last_evaluated_key, scope)}


def open_job_run(
    shop_id: str, run_id: str, received_at: Any, event_type: str, doc: dict[str, Any], fired: str | None = None
) -> None:
    """The run-log entry of a job that fans out (the overdue scan, a selection), written once.

    Its pages add entries with ``note_progress``; a second start of the same job finds it and goes on.
    """
    try:
        RunItem(
            shop_id,
            run_id,
            received_at=received_at.isoformat(),
            state="queued",
            event_type=event_type,
            fired=fired,
            document=dumps({"run_id": run_id, "event_id": run_id, "received_at": received_at.isoformat()} | doc),
            deliveries={},
            expires_at=received_at + timedelta(days=settings().run_retention_days),
        ).save(condition=RunItem.run_id.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" not in str(exc.cause_response_code or exc):
            raise


def note_progress(shop_id: str, run_id: str, key: str, entry: dict[str, Any]) -> None:
    """One entry in a job's run: what a page did (one UpdateItem on a map path)."""
    body = {"state": "done", "rule": "-", "at": datetime.now(UTC).isoformat()} | entry
    try:
        RunItem(shop_id, run_id).update(actions=[RunItem.deliveries[key].set(body)])
    except UpdateError:  # pragma: no cover - the job's run is written before any page
        pass


def record_delivery(msg: ActionMessage, state: str, **detail: Any) -> None:
    """Set one action's delivery state in its run's log (one UpdateItem on a map path)."""
    if msg.release_note:  # a delayed action: what was decided when it came due stays in its entry
        detail.setdefault("note", msg.release_note)
    if msg.delayed_from:
        detail.setdefault("due", msg.delayed_from)
    entry = DeliveryEntry.of(msg, state, **detail).to_message()
    actions = [RunItem.deliveries[msg.action_id].set(entry)]
    if state == "dead_lettered":  # into the sparse index the owner's daily digest reads
        actions.append(RunItem.dead_at.set(entry["at"]))
    try:
        RunItem(msg.shop_id, msg.run_id).update(actions=actions, condition=RunItem.run_id.exists())
    except UpdateError:
        logger.warning("run log entry missing", extra={"run_id": msg.run_id, "action_id": msg.action_id})


def reindex_runs(shop_id: str) -> int:
    """Write ``order_key`` and ``evaluated`` on the shop's runs logged before the by-order index and the rule
    filter existed (the rules whose trigger matched are in the run's explanation)."""
    changed = 0
    for item in RunItem.query(shop_id, page_size=200):
        doc = json.loads(item.document)
        events = doc.get("events", [])
        matched = sorted({r["rule"] for e in events for r in e.get("rules", []) if r.get("trigger_matched", True)})
        subject = order_key(shop_id, item.order_id, doc.get("invoice_id"))
        want = [(RunItem.order_key, subject), (RunItem.evaluated, rule_list(matched))]
        changed += backfill(RunItem, shop_id, item.run_id, item, want)
    return changed
