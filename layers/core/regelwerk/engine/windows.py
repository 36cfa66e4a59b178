"""Time windows a shop owner names (``last_month``, ``last_7_days`` ...), as calendar periods in the shop's time zone.

Each window is half-open ``[start, end)``: ``today`` and ``yesterday``; ``last_7_days`` and
``last_30_days`` are the full days before today (today's orders are still coming in); ``this_month`` /
``this_year`` up to the period's end; ``last_month`` / ``last_year``; ``all`` has no bounds. Exports and
rules over a selection (``over: orders, window: last_month``) read the same windows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

Window = Literal[
    "all", "today", "yesterday", "last_7_days", "last_30_days", "this_month", "last_month", "this_year", "last_year"
]
WINDOWS: tuple[Window, ...] = get_args(Window)


def window_bounds(window: str, now: datetime, time_zone: str) -> tuple[datetime | None, datetime | None]:
    """The window ``[start, end)`` around ``now``, as times in the shop's time zone (``None``: unbounded).

    Days start at local midnight, with the offset that holds then (so a month across a DST
    change is [..+01:00, ..+02:00)); ``now`` must carry a time zone. Compare and subtract them as
    UTC: Python does both by wall clock for two times of one zone.
    """
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; one of {', '.join(WINDOWS)}")
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    if window == "all":
        return None, None
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    month = today.replace(day=1)
    first, last = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "last_7_days": (today - timedelta(days=7), today),
        "last_30_days": (today - timedelta(days=30), today),
        "this_month": (month, _next_month(month)),
        "last_month": (_next_month(month, -1), month),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
    }[window]
    return _midnight(first, zone), _midnight(last, zone)


def _next_month(first: date, step: int = 1) -> date:
    months = first.year * 12 + first.month - 1 + step
    return date(months // 12, months % 12 + 1, 1)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # through UTC and back: where a DST change skips midnight, the day starts at the first real instant
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).astimezone(zone)


def within(when: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    """Whether ``when`` lies in ``[start, end)`` (unbounded where None); no time is in a bounded window."""
    if start is None and end is None:
        return True
    if when is None:
        return False
    # compared as UTC: aware times of one zone compare by wall clock, wrong in the hour DST repeats
    instant = when.astimezone(UTC)
    return (start is None or instant >= start.astimezone(UTC)) and (end is None or instant < end.astimezone(UTC))
