"""Cron expressions of schedule triggers: parsing, EventBridge form, daylight saving time, refusals with paths."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from regelwerk.engine.cron import Cron, CronError
from regelwerk.engine.rule import load_rule
from regelwerk.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")


def rule(**trigger_fields) -> dict:
    return {
        "id": "report",
        "name": "Report",
        "actions": [{"type": "email", "template": "report", "to": "owner"}],
        **trigger_fields,
    }


def problems(document: dict) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as exc:
        load_rule(document)
    return [(p.path, p.reason) for p in exc.value.problems]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "eventbridge"),
    [
        ("0 8 1 * *", "cron(0 8 1 * ? *)"),
        ("*/10 * * * *", "cron(0/10 * * * ? *)"),
        ("0 8 * * 1-5", "cron(0 8 ? * 2-6 *)"),
        ("30 6,18 * jan-mar SUN", "cron(30 6,18 ? 1-3 1 *)"),
        ("0 */4 1,15 * *", "cron(0 0/4 1,15 * ? *)"),
        ("0 9 * * 7", "cron(0 9 ? * 1 *)"),
    ],
)
def test_cron_becomes_the_eventbridge_expression_and_back(cron, eventbridge):
    parsed = Cron.parse(cron)
    assert parsed.eventbridge() == eventbridge
    assert Cron.from_eventbridge(eventbridge) == parsed


def test_first_of_the_month_at_eight_in_berlin_follows_daylight_saving_time():
    slots = list(Cron.parse("0 8 1 * *").slots(BERLIN, utc(2026, 1, 1), utc(2026, 12, 31)))
    assert len(slots) == 12
    assert slots[0] == utc(2026, 1, 1, 7)  # CET, UTC+1
    assert slots[6] == utc(2026, 7, 1, 6)  # CEST, UTC+2
    assert slots[11] == utc(2026, 12, 1, 7)


def test_a_time_the_clocks_skip_is_skipped_and_a_doubled_one_runs_once():
    daily = Cron.parse("30 2 * * *")
    spring = list(daily.slots(BERLIN, utc(2026, 3, 28), utc(2026, 3, 30)))
    assert spring == [utc(2026, 3, 28, 1, 30)]  # 29 March has no 02:30
    autumn = list(daily.slots(BERLIN, utc(2026, 10, 24), utc(2026, 10, 26)))
    assert autumn == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30)]  # the first 02:30 of 25 October only


def test_slots_are_after_the_start_and_up_to_the_end():
    hourly = Cron.parse("0 * * * *")
    assert list(hourly.slots(UTC, utc(2026, 1, 1, 8), utc(2026, 1, 1, 10))) == [utc(2026, 1, 1, 9), utc(2026, 1, 1, 10)]


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("*/5 * * * *", "runs every 5 minutes; a schedule may run at most every 10 minutes"),
        ("0,5 8 * * *", "runs every 5 minutes; a schedule may run at most every 10 minutes"),
        ("55 23 * * *", None),
        ("0 8 1 * MON", "give a day of the month or a day of the week, not both"),
        ("0 8 * *", "a cron expression has 5 fields"),
        ("0 25 * * *", "hour: 25 is outside 0-23"),
        ("0 8 L * *", "day of month: 'L' is not supported"),
        ("0 8 * * 5#2", "day of week: '5#2' is not supported"),
        ("@daily", "shorthands such as @daily are not supported"),
        ("0 8 30 2 *", "no month has that day"),
        ("0 8 * * FRI-MON", "day of week: the range 'FRI-MON' runs backwards"),
    ],
)
def test_cron_refusals(cron, reason):
    if reason is None:
        Cron.parse(cron)
        return
    with pytest.raises(CronError) as exc:
        Cron.parse(cron)
    assert str(exc.value).startswith(reason)


def test_ten_minutes_across_midnight_count_too():
    with pytest.raises(CronError, match="every 2 minutes"):
        Cron.parse("0,58 0,23 * * *")  # 23:58, then 00:00
    Cron.parse("5,55 0,23 * * *")  # 23:55, then 00:05: ten minutes


def test_rule_refusals_name_the_path():
    assert problems(rule(trigger={"event": "schedule", "cron": "*/5 * * * *"})) == [
        ("$.trigger.cron", "runs every 5 minutes; a schedule may run at most every 10 minutes")
    ]
    bad_zone = rule(
        triggers=[{"event": "order.paid"}, {"event": "schedule", "cron": "0 8 1 * *", "time_zone": "CET+1"}]
    )
    assert problems(bad_zone) == [
        ("$.triggers[1].time_zone", "unknown time zone 'CET+1' (use an IANA name such as Europe/Berlin)")
    ]
    assert problems(rule(trigger={"event": "schedule", "cron": "not a cron"}))[0][0] == "$.trigger.cron"
    assert problems(rule(trigger={"event": "order.paid", "time_zone": "Europe/Berlin"})) == [
        ("$.trigger", "'time_zone' only applies to the schedule trigger")
    ]


def test_a_valid_schedule_trigger_is_kept_as_written():
    compiled = load_rule(rule(trigger={"event": "schedule", "cron": " 0  8 1 * * ", "time_zone": "Europe/Berlin"}))
    trigger = compiled.rule.trigger
    assert trigger.cron == "0 8 1 * *" and trigger.time_zone == "Europe/Berlin"
    assert trigger.schedule.eventbridge() == "cron(0 8 1 * ? *)"
