"""Cron expressions of schedule triggers: parsed, translated for EventBridge Scheduler, iterated in a time zone.

A rule writes the classic 5-field form, ``minute hour day-of-month month day-of-week``
(``0 8 1 * *`` = 08:00 on the 1st of every month), read in the rule's or the shop's time zone.
Only what EventBridge Scheduler can run is accepted, so what is saved is what runs:

* ``*``, numbers, ranges ``a-b``, lists ``a,b`` and steps ``*/n`` / ``a-b/n`` / ``a/n``;
  month names ``JAN``-``DEC`` and day names ``SUN``-``SAT`` (day 0 or 7 is Sunday);
* a day of the month *or* a day of the week, not both (Scheduler has no "either" form);
* no ``L``, ``W``, ``#``, ``?`` or ``@daily`` shorthands, and at least 10 minutes between runs.

Daylight saving time follows EventBridge Scheduler: a time that does not exist on the day the
clocks go forward is skipped, and a time that exists twice when they go back runs once (the
first time).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

MIN_INTERVAL = timedelta(minutes=10)

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
# name, lowest, highest, names
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_ITEM = re.compile(r"^(?:(\*)|([A-Z0-9]+)(?:-([A-Z0-9]+))?)(?:/(\d+))?$")


class CronError(ValueError):
    """A cron expression that cannot be saved; the message says why, in the user's words."""


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(name: str) -> str:
    """An IANA time zone name (Europe/Berlin), else CronError."""
    if name not in _zones():
        raise CronError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)")
    return name


def _value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if token in names:
        return names[token]
    if not token.isdigit():
        raise CronError(f"{name}: {token!r} is not a number" + (" or a name" if names else ""))
    n = int(token)
    if not low <= n <= high:
        raise CronError(f"{name}: {n} is outside {low}-{high}")
    return n


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if re.search(r"[LW#?]", re.sub(r"[A-Z]{3}", "", item)):
            raise CronError(f"{name}: {item!r} is not supported (no L, W, # or ?); use numbers, ranges and lists")
        match = _ITEM.match(item)
        if not match:
            raise CronError(f"{name}: cannot read {item!r}")
        star, start, end, step = match.groups()
        if star:
            first, last = low, high
        else:
            first = _value(start, name, low, high, names)
            last = _value(end, name, low, high, names) if end else (high if step else first)
        if last < first:
            raise CronError(f"{name}: the range {item!r} runs backwards")
        n = int(step) if step else 1
        if n < 1:
            raise CronError(f"{name}: the step in {item!r} must be at least 1")
        values.update(range(first, last + 1, n))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A parsed 5-field cron expression (see the module docstring for what is accepted)."""

    text: str = field(compare=False)
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_restricted: bool
    weekday_restricted: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        """Parse ``minute hour day-of-month month day-of-week``; CronError says what is wrong."""
        parts = text.upper().split()
        if text.strip().startswith("@"):
            raise CronError("shorthands such as @daily are not supported; write the five fields, e.g. '0 0 * * *'")
        if len(parts) != 5:
            raise CronError(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                f"this one has {len(parts)}"
            )
        sets = [_field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])
        cron = cls(
            text=" ".join(text.split()),
            minutes=sets[0],
            hours=sets[1],
            days=sets[2],
            months=sets[3],
            weekdays=weekdays,
            day_restricted=parts[2] != "*",
            weekday_restricted=parts[4] != "*",
        )
        if cron.day_restricted and cron.weekday_restricted:
            raise CronError(
                "give a day of the month or a day of the week, not both (use * for the other one); "
                "EventBridge Scheduler cannot run on either"
            )
        if cron.shortest_interval() < MIN_INTERVAL:
            raise CronError(
                f"runs every {int(cron.shortest_interval().total_seconds() // 60)} minutes; "
                f"a schedule may run at most every {int(MIN_INTERVAL.total_seconds() // 60)} minutes"
            )
        if not any(_month_has_day(m, d) for m in cron.months for d in cron.days):
            raise CronError("no month has that day: the schedule would never run")
        return cron

    @classmethod
    def from_eventbridge(cls, expression: str) -> Cron:
        """Read back an expression made by ``eventbridge()`` (``cron(0 8 1 * ? *)``)."""
        match = re.fullmatch(r"cron\((.*)\)", expression.strip())
        if not match:
            raise CronError(f"not a cron expression: {expression!r}")
        minute, hour, dom, month, dow, _year = match.group(1).split()
        if dow not in ("?", "*"):
            dow = ",".join(str(int(v) - 1) for v in _expand_list(dow))  # Scheduler counts 1 = Sunday
        return cls.parse(" ".join([minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else dow]))

    def shortest_interval(self) -> timedelta:
        """The shortest time between two runs (by the wall clock; across midnight if days follow each other)."""
        times = sorted(h * 60 + m for h in self.hours for m in self.minutes)
        if len(times) == 1:
            return timedelta(days=1)
        gaps = [b - a for a, b in pairwise(times)] + [times[0] + 1440 - times[-1]]
        return timedelta(minutes=min(gaps))

    def eventbridge(self) -> str:
        """The same schedule as an EventBridge Scheduler expression, e.g. ``cron(0 8 1 * ? *)``."""
        minute = _compact(self.minutes, 0, 59)
        hour = _compact(self.hours, 0, 23)
        month = _compact(self.months, 1, 12)
        if self.weekday_restricted:
            dom, dow = "?", _compact(frozenset(d + 1 for d in self.weekdays), 1, 7)
        else:
            dom, dow = _compact(self.days, 1, 31), "?"
        return f"cron({minute} {hour} {dom} {month} {dow} *)"

    def runs_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        if self.weekday_restricted:
            return (day.weekday() + 1) % 7 in self.weekdays
        return day.day in self.days

    def slots(self, zone: ZoneInfo, after: datetime, until: datetime, limit: int = 10_000) -> Iterator[datetime]:
        """The runs in ``(after, until]``, as UTC datetimes, in order; at most ``limit`` of them."""
        day = after.astimezone(zone).date() - timedelta(days=1)
        last = until.astimezone(zone).date() + timedelta(days=1)
        times = sorted((h, m) for h in self.hours for m in self.minutes)
        count = 0
        while day <= last and count < limit:
            if self.runs_on(day):
                for h, m in times:
                    local = datetime(day.year, day.month, day.day, h, m, tzinfo=zone)  # fold=0: the first 02:30
                    utc = local.astimezone(UTC)
                    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
                        continue  # does not exist: the clocks went forward over it
                    if after < utc <= until:
                        yield utc
                        count += 1
                        if count >= limit:
                            return
            day += timedelta(days=1)


def _month_has_day(month: int, day: int) -> bool:
    return day <= (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)


def _expand_list(text: str) -> list[int]:
    out: list[int] = []
    for item in text.split(","):
        first, _, last = item.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def _compact(values: frozenset[int], low: int, high: int) -> str:
    """A value set in Scheduler's syntax: ``*``, ``0/15`` or a list of numbers and ranges."""
    ordered = sorted(values)
    if ordered == list(range(low, high + 1)):
        return "*"
    if len(ordered) > 2:
        step = ordered[1] - ordered[0]
        if step > 1 and ordered == list(range(ordered[0], high + 1, step)) and ordered[0] < step + low:
            return f"{ordered[0]}/{step}"
    parts: list[str] = []
    start = prev = ordered[0]
    for v in [*ordered[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ",".join(parts)


def utc_slot(when: datetime) -> str:
    """A slot as Scheduler writes <aws.scheduler.scheduled-time>: ``2026-12-01T07:00:00Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
