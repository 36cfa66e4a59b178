"""What the read routes share: the shop's own numbers as ids (``number:1001``, ``number:1001@shopify``),
the answer when a number names more than one record, time filters, and index keys in UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, InvalidInput, Problem

if TYPE_CHECKING:
    from pynamodb.expressions.condition import Condition

NUMBER_PREFIX = "number:"
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # model.values.Slug, the grammar of channels
MAX_LIMIT = 200
MAX_ID = 128  # model.values.Id: a longer id names no record (and would be over DynamoDB's key size)
_LIMIT = re.compile(r"^[0-9]{1,3}$")


@dataclass(frozen=True)
class NumberRef:
    """The shop's own number of an order or invoice, and for orders optionally the channel it came from."""

    number: str
    channel: str | None = None


def number_ref(ref: str) -> NumberRef | None:
    """``number:1001`` or ``number:1001@shopify`` as a NumberRef; None for an id (anything else)."""
    if not ref.startswith(NUMBER_PREFIX):
        return None
    number, channel = ref[len(NUMBER_PREFIX) :], None
    head, sep, tail = number.rpartition("@")
    if sep and head and _CHANNEL.match(tail):
        number, channel = head, tail
    if not number or len(number) > 64:
        raise InvalidInput("invalid number", [Problem("$.id", "number:<the shop's number>[@<channel>]")])
    return NumberRef(number, channel)


def id_filter(name: str, value: str | None) -> str | None:
    """An id given as a filter (``customer``): 422 naming it when no record can have it."""
    if value is not None and not 0 < len(value) <= MAX_ID:
        raise InvalidInput("invalid filter", [Problem(f"$.{name}", f"an id of 1 to {MAX_ID} characters")])
    return value


def number_filter(value: str | None) -> str | None:
    """The shop's number given as a filter: 422 when no record can have it (longer than 64 characters)."""
    if value is not None and not 0 < len(value) <= 64:
        raise InvalidInput("invalid filter", [Problem("$.number", "a number of 1 to 64 characters")])
    return value


def number_key(shop_id: str, number: str) -> str:
    """The by-number indexes' key: the shop in it keeps every lookup inside the shop."""
    return f"{shop_id}#{number}"


class AmbiguousNumber(Conflict):
    """A number that names more than one record (two channels may both have an order 1001): 409 with the
    matches, so the caller can say which."""

    def __init__(self, kind: str, number: str, matches: list[dict[str, Any]]):
        named = ", ".join(f"{m['id']} ({m['channel']})" if m.get("channel") else m["id"] for m in matches)
        hint = f"; say which with number:{number}@<channel> or the id" if kind == "order" else "; use the id"
        super().__init__(f"{kind} number {number!r} matches {len(matches)} {kind}s: {named}{hint}")
        self.matches = matches

    def as_dict(self) -> dict[str, Any]:
        return super().as_dict() | {"matches": self.matches}


def utc_key(moment: datetime) -> str:
    """A time as index keys hold it: UTC ISO, so keys sort as the times do whatever offset they came with."""
    return moment.astimezone(UTC).isoformat()


def time_filter(name: str, value: str | None, *, end: bool = False) -> str | None:
    """A ``since`` / ``until`` parameter as a UTC key. A time needs its zone (``Z``, ``+01:00``); a date alone
    is the day in UTC: ``since`` from its start, ``until`` to its end. 422 names the parameter."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return utc_key(datetime.combine(day + timedelta(days=1 if end else 0), time(), UTC))
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
        key = utc_key(moment) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # OverflowError: a day past 9999-12-31 in UTC
        key = None
    if key is None:
        reason = "an ISO date (2026-11-23) or a time with its zone (2026-11-23T09:15:00+01:00)"
        raise InvalidInput("invalid filter", [Problem(f"$.{name}", reason)])
    return key


def window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """``since`` and ``until`` as UTC keys, checked: since before until."""
    low, high = time_filter("since", since), time_filter("until", until, end=True)
    if low and high and low >= high:
        raise InvalidInput("invalid filter", [Problem("$.until", "must be after since")])
    return low, high


def page_limit(value: str | int | None, default: int = 50) -> int:
    """``limit`` as a page size from 1 to 200; 422 for anything but a number."""
    if value is None or value == "":
        return default
    text = str(value)
    if not _LIMIT.match(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidInput("invalid filter", [Problem("$.limit", f"a number from 1 to {MAX_LIMIT}")])
    return int(text)


def key_range(attribute: Any, low: str | None, high: str | None) -> Condition | None:
    """The key condition of a time window on a range key (``high`` is excluded by the caller's filter)."""
    if low and high:
        return attribute.between(low, high)
    if low:
        return attribute >= low
    if high:
        return attribute <= high
    return None


def backfill(model: Any, hash_key: str, range_key: str, current: Any, want: list[tuple[Any, Any]]) -> bool:
    """Set the (attribute, value) pairs of ``want`` whose value ``current`` lacks (None values are skipped) with one
    UpdateItem on the table connection: not conditional on the item's version, since index attributes follow
    from the record whoever wrote it, so a concurrent write neither fails nor is undone. True if it wrote."""
    actions = [a.set(v) for a, v in want if v is not None and getattr(current, a.attr_name) != v]
    if actions:
        condition = getattr(model, model._hash_keyname).exists()
        model._get_connection().update_item(hash_key, range_key, actions=actions, condition=condition)
    return bool(actions)
