"""PynamoDB models, one per table in template.yaml (table names come from Settings).

Every item of a shop sits under the shop's id as partition key, so no query can reach
another shop's data: each repository function takes the shop id first.
"""

from __future__ import annotations

from typing import Any, cast

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
    LocalSecondaryIndex,
)
from pynamodb.models import MetaProtocol, Model

from ..clients import share_session_with_pynamodb
from ..settings import settings

_S = settings()
share_session_with_pynamodb()  # one botocore session per container for boto3 and PynamoDB alike


def _meta(table: str) -> MetaProtocol:
    class Meta:
        table_name = table
        region = _S.aws_region
        # retries are left to botocore's standard mode; keep Lambda's time for the work
        max_retry_attempts = 3
        connect_timeout_seconds = 2
        read_timeout_seconds = 5

    # MetaProtocol lists every Meta option; PynamoDB fills in the ones left out when the model class is made
    return cast("MetaProtocol", Meta)


class ShopItem(Model):
    """Shop profile (sk ``profile``), its API keys (sk ``key#<sha256 of the key>``) and the people who may open
    it in the console (sk ``user#<Cognito sub>``, with the mirror item ``user#<sub>`` / ``shop#<shop id>`` that
    lists a person's shops)."""

    Meta = _meta(_S.shops_table)
    shop_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    document = UnicodeAttribute(null=True)  # the shop as JSON
    scope = UnicodeAttribute(null=True)  # for keys: ingest | admin
    label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)  # for people: owner | viewer
    email = UnicodeAttribute(null=True)  # for people: their sign-in


class RuleItem(Model):
    """Rules (sk ``rule#<id>``: the live version), their history (``version#<id>#<n>``) and templates."""

    Meta = _meta(_S.rules_table)
    shop_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    document = UnicodeAttribute()  # the rule or template as JSON
    version = NumberAttribute(default=1)
    updated_at = UnicodeAttribute(null=True)


class OrdersByCustomer(GlobalSecondaryIndex):
    """A customer's orders, oldest first, without a Scan (``customer_key`` is ``<shop id>#<customer id>``)."""

    class Meta:
        index_name = "by-customer"
        projection = AllProjection()

    customer_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OrdersByCreated(GlobalSecondaryIndex):
    """The shop's orders by when they were placed (the order list, newest first)."""

    class Meta:
        index_name = "by-created"
        projection = AllProjection()

    shop_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OrdersByNumber(GlobalSecondaryIndex):
    """The shop's own order number (``number_key`` is ``<shop id>#<number>``): ids and channels only."""

    class Meta:
        index_name = "by-number"
        projection = IncludeProjection(["channel"])

    number_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OrderItem(Model):
    Meta = _meta(_S.orders_table)
    shop_id = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    changed_at = UnicodeAttribute()
    created_at = UnicodeAttribute(null=True)
    applied_event_id = UnicodeAttribute()
    document = UnicodeAttribute()  # canonical order as JSON
    version = VersionAttribute()
    customer_key = UnicodeAttribute(null=True)  # "<shop id>#<customer id>", the by-customer index's key
    document_keys = UnicodeSetAttribute(null=True)  # S3 keys of the PDFs made for this order (customer portal)
    announced = UnicodeSetAttribute(null=True)  # facts whose events fired once: paid, shipped, cancelled
    number_key = UnicodeAttribute(null=True)  # "<shop id>#<order number>", the by-number index's key
    channel = UnicodeAttribute(null=True)  # projected into by-number: which channel's order a number is
    by_customer = OrdersByCustomer()
    by_created = OrdersByCreated()
    by_number = OrdersByNumber()


class CustomerItem(Model):
    """A customer: the profile as JSON, and the aggregates as attributes that concurrent orders
    update atomically (no read-modify-write, so orders of one customer never contend)."""

    Meta = _meta(_S.customers_table)
    shop_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)
    document = UnicodeAttribute()  # profile: contact, language, country, tags, groups
    order_count = NumberAttribute(default=0)
    # currency -> amount in minor units (integers stay exact)
    spent_minor: MapAttribute[str, int] = MapAttribute(default=dict)
    first_order_at = UnicodeAttribute(null=True)
    last_order_at = UnicodeAttribute(null=True)
    erased_at = UnicodeAttribute(null=True)  # set by a GDPR erasure: the profile is gone, the aggregates stay


class OpenInvoicesByDue(GlobalSecondaryIndex):
    """Sparse: only open invoices carry ``open_shop``; the overdue scan's Query reads nothing else."""

    class Meta:
        index_name = "open-by-due"
        projection = KeysOnlyProjection()

    open_shop = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class InvoicesByIssued(GlobalSecondaryIndex):
    """The shop's invoices by issue date (the invoice list, newest first)."""

    class Meta:
        index_name = "by-issued"
        projection = AllProjection()

    shop_id = UnicodeAttribute(hash_key=True)
    issued_at = UnicodeAttribute(range_key=True)


class InvoicesByNumber(GlobalSecondaryIndex):
    """The shop's own invoice number (``number_key`` is ``<shop id>#<number>``): keys only."""

    class Meta:
        index_name = "by-number"
        projection = KeysOnlyProjection()

    number_key = UnicodeAttribute(hash_key=True)
    issued_at = UnicodeAttribute(range_key=True)


class InvoiceItem(Model):
    Meta = _meta(_S.invoices_table)
    shop_id = UnicodeAttribute(hash_key=True)
    invoice_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    document = UnicodeAttribute()
    version = VersionAttribute()
    open_shop = UnicodeAttribute(null=True)  # the shop id while the invoice is open, else absent
    due_at = UnicodeAttribute(null=True)  # UTC ISO, the index's sort key
    issued_at = UnicodeAttribute(null=True)  # UTC ISO, the sort key of by-issued and by-number
    number_key = UnicodeAttribute(null=True)  # "<shop id>#<invoice number>"
    # set when its customer was erased: kept for tax law only until this date, in no reminder, export or portal
    retained_until = UnicodeAttribute(null=True)
    open_by_due = OpenInvoicesByDue()
    by_issued = InvoicesByIssued()
    by_number = InvoicesByNumber()


class RunsByTime(LocalSecondaryIndex):
    class Meta:
        index_name = "by-received-at"
        projection = AllProjection()

    shop_id = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class DeadLetteredRuns(GlobalSecondaryIndex):
    """Sparse: runs in which an action was dead-lettered, by when (the owner's daily digest)."""

    class Meta:
        index_name = "dead-lettered"
        projection = AllProjection()

    shop_id = UnicodeAttribute(hash_key=True)
    dead_at = UnicodeAttribute(range_key=True)


class RunsByOrder(GlobalSecondaryIndex):
    """The runs of one order (``order_key`` is ``<shop id>#<order id>``), with the attributes the run log's
    filters read; the runs themselves are read by id."""

    class Meta:
        index_name = "by-order"
        projection = IncludeProjection(["event_type", "customer_id", "fired", "evaluated"])

    order_key = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class RunItem(Model):
    """One run-log entry per event: the explanation, and each action's delivery state."""

    Meta = _meta(_S.runs_table)
    shop_id = UnicodeAttribute(hash_key=True)
    run_id = UnicodeAttribute(range_key=True)
    received_at = UnicodeAttribute()
    state = UnicodeAttribute()  # received -> evaluated -> queued
    event_type = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    fired = UnicodeAttribute(null=True)  # ",rule-a,rule-b," so the run log can be filtered by rule
    # ",rule-a,rule-b,": every rule evaluated, fired or not (runs?rule=X&fired=false). A string and a
    # filter, not an index per rule: a GSI key holds one value, and an index item per rule and run
    # would multiply a run's writes by the shop's rule count (and its transaction past 100 items)
    evaluated = UnicodeAttribute(null=True)
    order_key = UnicodeAttribute(null=True)  # "<shop id>#<order id>", the by-order index's key
    document = UnicodeAttribute()  # the explanation as JSON
    deliveries: MapAttribute[str, Any] = MapAttribute(default=dict)  # action id -> {state, rule, type, at, ...}
    expires_at = TTLAttribute(null=True)
    dead_at = UnicodeAttribute(null=True)  # when an action of this run was last dead-lettered
    by_time = RunsByTime()
    dead_lettered = DeadLetteredRuns()
    by_order = RunsByOrder()


class LedgerItem(Model):
    """Idempotency records: delivery claims (``delivery#...``) and frequency-limit claims (``limit#...``)."""

    Meta = _meta(_S.idempotency_table)
    id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    expiration = TTLAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class TaskItem(Model):
    """A task for the shop's team, created by a rule's create_task action (listed by the admin API)."""

    Meta = _meta(_S.tasks_table)
    shop_id = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)  # "<created at>-<action hash>": newest last, stable across retries
    document = UnicodeAttribute()  # title, body, due, assignee, rule, order, run
    state = UnicodeAttribute(default="open")  # open | done
    updated_at = UnicodeAttribute(null=True)


class ConsoleItem(Model):
    """The console's sign-in sessions (``session#<sha256 of the cookie>``) and sign-in failure counters
    (``signin#<sha256 of the e-mail>#<window>``), each gone by TTL."""

    Meta = _meta(_S.console_table)
    id = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute(null=True)
    sub = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    csrf = UnicodeAttribute(null=True)  # the session's synchronizer token, sent back in every form
    access_token = UnicodeAttribute(null=True)  # held server-side only, never sent to the browser
    refresh_token = UnicodeAttribute(null=True)
    access_until = NumberAttribute(null=True)  # epoch seconds: refreshed with the refresh token after this
    failures = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)  # the person's choice of de / en for the session


def get_or_none[M: Model](model: type[M], hash_key: str, range_key: str | None = None) -> M | None:
    """The item, read consistently, or None when there is none."""
    try:
        return model.get(hash_key, range_key, consistent_read=True)
    except model.DoesNotExist:
        return None


def found(future: Any) -> Any:
    """What a TransactGet future read, or None when the item does not exist."""
    try:
        return future.get()
    except Exception as exc:
        if type(exc).__name__ == "DoesNotExist":
            return None
        raise


ALL_MODELS = (ShopItem, RuleItem, OrderItem, CustomerItem, InvoiceItem, RunItem, LedgerItem, TaskItem, ConsoleItem)
