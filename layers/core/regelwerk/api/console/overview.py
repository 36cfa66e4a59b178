"""The overview's figures, from one page of the run log: per day of the last 7 (in the shop's time zone) the
events, rules fired, messages sent and actions failed, and what needs attention first (dead letters waiting,
a rule failing repeatedly). Charts are small SVGs drawn here, on the server: no script, no inline style."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from ...store.lookup import utc_key
from ...store.runs import search_runs
from ...store.tables import RunItem

PAGE = 200  # one page of the run log: a busier week is counted from its newest 200 runs, and says so
MESSAGE_TYPES = {"email", "sms", "webhook"}
FAILED = {"failed", "dead_lettered", "unconfirmed"}
FIGURES = ("events", "rules_fired", "messages_sent", "actions_failed")


@dataclass
class Overview:
    days: list[date]
    per_day: dict[str, list[int]]
    runs_read: int
    complete: bool  # False: the week had more runs than one page
    dead_letters: int
    failing_rules: list[tuple[str, int]] = field(default_factory=list)

    def today(self, figure: str) -> int:
        return self.per_day[figure][-1]

    def week(self, figure: str) -> int:
        return sum(self.per_day[figure])


def overview(shop_id: str, time_zone: str, now: datetime) -> Overview:
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    start = datetime.combine(days[0], datetime.min.time(), zone)
    page = search_runs(shop_id, since=utc_key(start), limit=PAGE)
    per_day = {f: [0] * 7 for f in FIGURES}
    failing: Counter[str] = Counter()
    for run in page["runs"]:
        day = datetime.fromisoformat(run["received_at"]).astimezone(zone).date()
        if day not in days:
            continue
        n = days.index(day)
        per_day["events"][n] += 1
        per_day["rules_fired"][n] += sum(1 for e in run.get("events", []) for r in e.get("rules", []) if r.get("fired"))
        for entry in (run.get("deliveries") or {}).values():
            if entry.get("type") in MESSAGE_TYPES and entry.get("state") == "sent":
                per_day["messages_sent"][n] += 1
            if entry.get("state") in FAILED:
                per_day["actions_failed"][n] += 1
                failing[str(entry.get("rule") or "?")] += 1
    return Overview(
        days=days,
        per_day=per_day,
        runs_read=len(page["runs"]),
        complete=page["next"] is None,
        dead_letters=dead_letters_waiting(shop_id),
        failing_rules=[(rule, n) for rule, n in failing.most_common() if n >= 2],
    )


def dead_letters_waiting(shop_id: str, limit: int = 50) -> int:
    """Actions still dead-lettered, in the newest runs of the sparse dead-lettered index."""
    runs = RunItem.dead_lettered.query(shop_id, scan_index_forward=False, limit=limit)
    return sum(
        1
        for run in runs
        for entry in (
            run.deliveries.as_dict() if hasattr(run.deliveries, "as_dict") else dict(run.deliveries or {})
        ).values()
        if entry.get("state") == "dead_lettered"
    )


def bar_chart(values: list[int], labels: list[str], title: str) -> Markup:
    """Seven bars with their values, as an accessible SVG (role img, a title, one <title> per bar)."""
    width, height, gap = 210, 64, 6
    bar = (width - gap * (len(values) - 1)) // len(values)
    top = max(values) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 14}" width="{width}" height="{height + 14}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for n, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = max(2, round(value / top * (height - 12))) if value else 2
        x = n * (bar + gap)
        parts.append(
            f"<g><title>{escape(label)}: {value}</title>"
            f'<rect class="{"bar zero" if not value else "bar"}" x="{x}" y="{height - h}" '
            f'width="{bar}" height="{h}"></rect>'
            f'<text class="value" x="{x + bar / 2}" y="{height - h - 2}" text-anchor="middle">{value}</text>'
            f'<text class="day" x="{x + bar / 2}" y="{height + 12}" text-anchor="middle">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is an int or escaped


def charts(data: Overview, day_label: Any, title: Any) -> dict[str, Markup]:
    labels = [day_label(d) for d in data.days]
    return {f: bar_chart(data.per_day[f], labels, title(f)) for f in FIGURES}


def rule_activity(shop_id: str) -> dict[str, dict[str, Any]]:
    """For the rule list: per rule, when it last fired and how often in the newest page of the last 7 days."""
    from datetime import UTC

    since = utc_key(datetime.now(UTC) - timedelta(days=7))
    out: dict[str, dict[str, Any]] = {}
    for run in search_runs(shop_id, since=since, limit=PAGE)["runs"]:  # newest first
        for e in run.get("events", []):
            for r in e.get("rules", []):
                if r.get("fired"):
                    row = out.setdefault(r["rule"], {"last_fired": run["received_at"], "count": 0})
                    row["count"] += 1
    return out
