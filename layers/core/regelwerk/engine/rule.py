"""The rule document: a trigger, optional conditions, and one or more actions.

The same document is read from YAML files and from the JSON API::

    id: thank-big-german-orders
    name: Thank big German orders
    trigger: {event: order.imported}
    when: {all: [{field: order.total, op: gt, value: 100}]}
    limit: unlimited
    mode: sequential
    actions:
      - {type: email, template: thank-you, to: customer}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InvalidInput, Problem, pydantic_problems
from ..model.shop import Secret
from ..model.values import Slug
from .conditions import Condition, compile_condition
from .cron import Cron, CronError, check_time_zone
from .windows import Window

EventName = Literal[
    "order.imported",
    "order.status_changed",
    "order.paid",
    "order.shipped",
    "order.cancelled",
    "order.refunded",
    "invoice.sent",
    "invoice.paid",
    "invoice.overdue",
    "invoice.payment_failed",
    "invoice.refunded",
    "subscription.started",
    "subscription.cancelled",
    "article.paid",
    "article.invoiced",
    "schedule",
    "manual",
]
EVENTS: tuple[str, ...] = get_args(EventName)

_RULE = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)
_DURATION = re.compile(r"^(\d+)(m|h|d)$")


def parse_duration(text: str) -> timedelta:
    """'15m', '24h', '7d' -> timedelta."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError("must be a duration such as 15m, 24h or 7d")
    n, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]


class Trigger(BaseModel):
    model_config = _RULE

    event: EventName
    to: Slug | None = None
    from_: Slug | None = Field(default=None, alias="from")
    sku: str | None = Field(default=None, max_length=100)
    cron: str | None = Field(default=None, max_length=100)
    time_zone: str | None = Field(default=None, max_length=64)  # default: the shop's time zone

    @field_validator("cron")
    @classmethod
    def _cron_runs_on_scheduler(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return Cron.parse(value).text
        except CronError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("time_zone")
    @classmethod
    def _zone_exists(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_time_zone(value)
        except CronError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def schedule(self) -> Cron | None:
        """The parsed cron of a schedule trigger."""
        return Cron.parse(self.cron) if self.cron else None

    @model_validator(mode="after")
    def _parameters_fit_event(self) -> Trigger:
        if (self.to or self.from_) and self.event != "order.status_changed":
            raise ValueError("'to' and 'from' only apply to order.status_changed")
        if self.event.startswith("article.") and not self.sku:
            raise ValueError(f"{self.event} needs a sku")
        if self.sku and not self.event.startswith("article."):
            raise ValueError("'sku' only applies to article.paid and article.invoiced")
        if self.event == "schedule" and not self.cron:
            raise ValueError("a schedule trigger needs a cron expression")
        if self.cron and self.event != "schedule":
            raise ValueError("'cron' only applies to the schedule trigger")
        if self.time_zone and self.event != "schedule":
            raise ValueError("'time_zone' only applies to the schedule trigger")
        return self

    def matches(self, event_type: str, event: dict[str, Any]) -> bool:
        if self.event != event_type:
            return False
        if self.to and event.get("status") != self.to:
            return False
        if self.from_ and event.get("previous_status") != self.from_:
            return False
        return not (self.sku and event.get("sku") != self.sku)


class OncePerCustomerPer(BaseModel):
    model_config = _RULE

    once_per_customer_per: str

    @field_validator("once_per_customer_per")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


Limit = Literal["unlimited", "once_per_customer"] | OncePerCustomerPer

Recipient = Annotated[str, Field(pattern=r"^(customer|owner|[^@\s]+@[^@\s]+\.[^@\s]+)$", max_length=254)]
PhoneRecipient = Annotated[str, Field(pattern=r"^(customer|owner|\+[1-9]\d{6,14})$")]
OutputName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


MAX_DELAY = timedelta(days=90)
SQS_MAX_DELAY = timedelta(minutes=15)  # up to here a delay rides on SQS DelaySeconds; beyond, on Scheduler


class _ActionBase(BaseModel):
    model_config = _RULE

    as_: OutputName | None = Field(default=None, alias="as")
    delay: str | None = None
    recheck: bool | None = None  # delayed actions: evaluate the rule's conditions again when the delay is over

    @field_validator("delay")
    @classmethod
    def _delay(cls, value: str | None) -> str | None:
        if value is not None and not timedelta(minutes=1) <= parse_duration(value) <= MAX_DELAY:
            raise ValueError("delay must be between 1m and 90d")
        return value

    @model_validator(mode="after")
    def _recheck_needs_delay(self) -> _ActionBase:
        if self.recheck and not self.delay:
            raise ValueError("recheck applies to delayed actions: give a delay too")
        return self


class EmailAction(_ActionBase):
    type: Literal["email"]
    template: Slug
    to: Recipient = "customer"
    attach: list[OutputName] = Field(default_factory=list, max_length=10)
    queue: Literal["mail"] = Field(default="mail", exclude=True)


class SmsAction(_ActionBase):
    type: Literal["sms"]
    template: Slug
    to: PhoneRecipient = "customer"
    queue: Literal["sms"] = Field(default="sms", exclude=True)


class PdfAction(_ActionBase):
    type: Literal["pdf"]
    document: Literal["invoice", "delivery_note", "payment_reminder", "credit_note", "dunning_letter"]
    queue: Literal["pdf"] = Field(default="pdf", exclude=True)


class NotifyOwnerAction(_ActionBase):
    """An e-mail or SMS to the shop's owner contacts (shop.yaml: owner.email, owner.phone)."""

    type: Literal["notify_owner"]
    via: Literal["email", "sms"] = "email"
    template: Slug
    attach: list[OutputName] = Field(default_factory=list, max_length=10)
    queue: Literal["mail", "sms"] = Field(default="mail", exclude=True)

    @model_validator(mode="after")
    def _queue_of_channel(self) -> NotifyOwnerAction:
        self.queue = "mail" if self.via == "email" else "sms"
        if self.attach and self.via == "sms":
            raise ValueError("an SMS cannot carry attachments")
        return self


class CreateTaskAction(_ActionBase):
    """A task for the shop's team (Wix, Bitrix24): listed by GET /v1/shops/{shop}/tasks.

    ``title`` and ``body`` are templates (``Check order {{ order.number }}``); ``due`` is a duration
    from the moment the task is created (``2d``)."""

    type: Literal["create_task"]
    title: str = Field(min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=4000)
    due: str | None = None
    assignee: str | None = Field(default=None, max_length=100)
    queue: Literal["actions"] = Field(default="actions", exclude=True)

    @field_validator("due")
    @classmethod
    def _due(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class SetOrderStatusAction(_ActionBase):
    """Move the order to a status; that emits order.status_changed, which other rules may act on."""

    type: Literal["set_order_status"]
    status: Slug
    queue: Literal["actions"] = Field(default="actions", exclude=True)


class WebhookAction(_ActionBase):
    """POST the event and its context as JSON to a URL, signed with the secret (Regelwerk-Signature)."""

    type: Literal["webhook"]
    url: str = Field(max_length=2048)
    secret: Secret
    queue: Literal["actions"] = Field(default="actions", exclude=True)

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/@?#]+(/\S*)?", value):
            raise ValueError("must be an https:// URL without user info (http:// only for hosts the operator allows)")
        return value


class ExportAction(_ActionBase):
    """A CSV of the shop's orders, invoices or customers of a time window, written to S3 (output: key and URL)."""

    type: Literal["export"]
    of: Literal["orders", "invoices", "customers"]
    window: Window = "last_month"
    queue: Literal["actions"] = Field(default="actions", exclude=True)


class SetCustomerLanguageAction(_ActionBase):
    """Billbee's "language from the delivery country": the customer's language, set when the order is
    processed, so this event's own messages already go out in it."""

    type: Literal["set_customer_language"]
    source: Literal["shipping_country", "billing_country"] = "shipping_country"
    fallback: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = None
    queue: Literal["inline"] = Field(default="inline", exclude=True)


class TagCustomerAction(_ActionBase):
    """Add, remove or replace tags (or groups) of the customer: newsletter lists, repeat customers, leads."""

    type: Literal["tag_customer"]
    field: Literal["tags", "groups"] = "tags"
    add: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=20)
    remove: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=20)
    replace: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(default=None, max_length=20)
    queue: Literal["inline"] = Field(default="inline", exclude=True)


Action = Annotated[
    EmailAction
    | SmsAction
    | PdfAction
    | NotifyOwnerAction
    | CreateTaskAction
    | SetOrderStatusAction
    | WebhookAction
    | ExportAction
    | SetCustomerLanguageAction
    | TagCustomerAction,
    Field(discriminator="type"),
]
ACTION_TYPES = frozenset(
    {
        "email",
        "sms",
        "pdf",
        "notify_owner",
        "create_task",
        "set_order_status",
        "webhook",
        "export",
        "set_customer_language",
        "tag_customer",
    }
)
INLINE_TYPES = frozenset({"set_customer_language", "tag_customer"})
_QUEUES = {"email": "mail", "sms": "sms", "pdf": "pdf"}


def queue_of(action: dict[str, Any]) -> str:
    """The queue a (validated) action document travels on."""
    kind = action["type"]
    if kind == "notify_owner":
        return "sms" if action.get("via") == "sms" else "mail"
    if kind in INLINE_TYPES:
        return "inline"
    return _QUEUES.get(kind, "actions")


class Rule(BaseModel):
    """A shop's rule as stored: the document plus its version."""

    model_config = _RULE

    id: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool = True
    trigger: Trigger | None = None
    triggers: list[Trigger] | None = Field(default=None, max_length=10)
    when: dict[str, Any] | None = None
    limit: Limit = "unlimited"
    # marketing messages count against the shop's marketing_limit (shop.yaml); transactional ones never do
    category: Literal["transactional", "marketing"] | None = None
    mode: Literal["sequential", "parallel"] = "sequential"
    # a scheduled rule may act on each order, invoice or customer of a window (its conditions filter them)
    over: Literal["orders", "invoices", "customers"] | None = None
    window: Window | None = None
    actions: list[Action] = Field(min_length=1, max_length=20)
    version: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_way_to_say_triggers(self) -> Rule:
        if (self.trigger is None) == (self.triggers is None):
            raise ValueError("give either 'trigger' or 'triggers' (a list), not both or neither")
        if self.over and any(t.event not in ("schedule", "manual") for t in self.all_triggers):
            raise ValueError("'over' applies to schedule and manual triggers (an event brings its own record)")
        if self.window and not self.over:
            raise ValueError("'window' needs 'over': the orders, invoices or customers it selects from")
        return self

    @property
    def all_triggers(self) -> list[Trigger]:
        return [self.trigger] if self.trigger else list(self.triggers or [])

    @property
    def limit_window(self) -> timedelta | None:
        """None: unlimited; timedelta.max: once per customer ever; else the window."""
        if self.limit == "unlimited":
            return None
        if self.limit == "once_per_customer":
            return timedelta.max
        return parse_duration(self.limit.once_per_customer_per)

    def document(self) -> dict[str, Any]:
        """The rule as a user writes it (YAML/JSON), without server fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"version"})


def _output_problems(rule: Rule) -> list[Problem]:
    """`as` names are unique, and `attach` only names outputs of earlier actions."""
    problems = []
    produced: set[str] = set()
    for i, action in enumerate(rule.actions):
        if action.queue == "inline" and action.delay:
            problems.append(Problem(f"$.actions[{i}].delay", f"{action.type} applies when the event is processed"))
        if action.queue == "inline" and action.as_:
            problems.append(Problem(f"$.actions[{i}].as", f"{action.type} has no output"))
        for j, ref in enumerate(getattr(action, "attach", [])):
            if ref not in produced:
                problems.append(Problem(f"$.actions[{i}].attach[{j}]", f"no earlier action produces {ref!r}"))
        if action.as_:
            if action.as_ in produced:
                problems.append(Problem(f"$.actions[{i}].as", f"another action already uses the name {action.as_!r}"))
            produced.add(action.as_)
    return problems


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    condition: Condition


def load_rule(data: Any) -> CompiledRule:
    """Validate a rule document and compile its conditions.

    Raises InvalidInput listing every problem with its JSON path (``$.actions[0].template``).
    """
    if not isinstance(data, dict):
        raise InvalidInput("a rule must be an object", [])
    problems = []
    rule = None
    try:
        rule = Rule.model_validate(data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, union_tags=ACTION_TYPES))
    if rule is not None:
        problems.extend(_output_problems(rule))
    condition = None
    try:
        condition = compile_condition(data.get("when"))
    except InvalidInput as exc:
        problems.extend(exc.problems)
    if problems or rule is None or condition is None:
        raise InvalidInput("invalid rule", problems)
    return CompiledRule(rule, condition)
