"""Scheduled rules: their EventBridge Scheduler schedules follow the rule, and the local clock runs them."""

from __future__ import annotations

import json

import boto3
import pytest

from regelwerk.store.rules import delete_rule, save_rule, save_template
from regelwerk.store.schedules import name_prefix
from regelwerk_cli import clock
from regelwerk_cli.main import main
from tests.conftest import sent_emails

GROUP = "regelwerk-dev"  # SchedulerGroup's name in template.yaml with the default Stage
MONTHLY = {
    "id": "monthly-report",
    "name": "Monthly report",
    "trigger": {"event": "schedule", "cron": "0 8 1 * *", "time_zone": "Europe/Berlin"},
    "actions": [{"type": "email", "template": "monthly", "to": "owner"}],
}


def schedules(shop_id: str = "demo", rule_id: str = "monthly-report") -> list[dict]:
    client = boto3.client("scheduler")
    listed = client.list_schedules(GroupName=GROUP, NamePrefix=name_prefix(shop_id, rule_id))["Schedules"]
    return [client.get_schedule(GroupName=GROUP, Name=s["Name"]) for s in listed]


def admin(shop, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    status, _, answer = shop.stack.invoke_http(
        method,
        f"/v1/shops/demo{path}",
        {"Authorization": f"Bearer {shop.admin_key}", "Content-Type": "application/json"},
        json.dumps(body) if body is not None else None,
    )
    return status, json.loads(answer or b"{}")


@pytest.fixture
def monthly(demo_shop):
    save_template(
        "demo", "monthly", "de", {"subject": "Monatsbericht {{ event.schedule_slot[:7] }}", "text": "Guten Morgen!"}
    )
    return demo_shop


def invoke(stack):
    return lambda logical_id, event: stack.invoke(logical_id, event)


def test_saving_a_scheduled_rule_creates_its_schedule(monthly):
    status, _ = admin(monthly, "POST", "/rules", MONTHLY)
    assert status == 201
    [schedule] = schedules()
    assert schedule["ScheduleExpression"] == "cron(0 8 1 * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert target["Arn"].endswith(":function:ScheduleFunction")
    assert target["RoleArn"].endswith(":role/SchedulerInvokeRole")
    assert json.loads(target["Input"]) == {
        "shop_id": "demo",
        "rule_id": "monthly-report",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["DeadLetterConfig"]["Arn"].endswith("ScheduleDeadLetterQueue")


def test_unchanged_save_touches_nothing_and_a_change_updates(monthly):
    save_rule("demo", MONTHLY)
    [before] = schedules()
    save_rule("demo", MONTHLY)
    [same] = schedules()
    assert same["LastModificationDate"] == before["LastModificationDate"]
    weekly = MONTHLY | {"trigger": {"event": "schedule", "cron": "30 7 * * MON"}}  # shop's time zone
    save_rule("demo", weekly)
    [changed] = schedules()
    assert changed["ScheduleExpression"] == "cron(30 7 ? * 2 *)"
    assert changed["ScheduleExpressionTimezone"] == "Europe/Berlin"  # the demo shop's


def test_disabling_or_deleting_the_rule_removes_its_schedule(monthly):
    save_rule("demo", MONTHLY)
    assert admin(monthly, "POST", "/rules/monthly-report/disable")[0] == 200
    assert schedules() == []
    assert admin(monthly, "POST", "/rules/monthly-report/enable")[0] == 200
    assert len(schedules()) == 1
    save_rule("demo", MONTHLY | {"trigger": {"event": "order.paid"}})  # no longer scheduled
    assert schedules() == []
    save_rule("demo", MONTHLY)
    assert admin(monthly, "DELETE", "/rules/monthly-report")[0] == 204
    assert schedules() == []
    save_rule("demo", MONTHLY)
    delete_rule("demo", "monthly-report")
    assert schedules() == []


def test_bad_schedules_are_refused_naming_the_path(monthly):
    too_often = MONTHLY | {"trigger": {"event": "schedule", "cron": "*/5 * * * *"}}
    status, answer = admin(monthly, "POST", "/rules", too_often)
    assert status == 422
    assert answer["problems"] == [
        {"path": "$.trigger.cron", "reason": "runs every 5 minutes; a schedule may run at most every 10 minutes"}
    ]
    bad_zone = MONTHLY | {
        "trigger": None,
        "triggers": [{"event": "manual"}, {"event": "schedule", "cron": "0 8 1 * *", "time_zone": "Europe/Leipzig"}],
    }
    del bad_zone["trigger"]
    status, answer = admin(monthly, "POST", "/rules", bad_zone)
    assert status == 422
    assert answer["problems"][0]["path"] == "$.triggers[1].time_zone"
    assert "unknown time zone 'Europe/Leipzig'" in answer["problems"][0]["reason"]
    assert schedules() == []


def test_the_clock_runs_the_first_of_the_month_once(monthly):
    save_rule("demo", MONTHLY)
    run = invoke(monthly.stack)
    assert clock.move_to(clock.parse_time("2026-11-30T12:00+01:00"), run) == []  # first setting runs nothing

    when, fired = clock.advance("2d", run)

    assert when == clock.parse_time("2026-12-02T12:00+01:00")
    [slot] = fired
    assert (slot.slot, slot.shop_id, slot.rule_id, slot.error) == (
        "2026-12-01T07:00:00Z",
        "demo",
        "monthly-report",
        None,
    )
    assert slot.answer["rules_fired"] == ["monthly-report"]
    monthly.drain()
    [mail] = sent_emails()
    assert mail["To"] == "inhaberin@morgenrot.example"
    assert mail["Subject"] == "Monatsbericht 2026-12"

    assert clock.advance("2d", run)[1] == []  # nothing new came due

    # played again (clock set back, then forward over the same slot): the slot does not run twice
    clock.move_to(clock.parse_time("2026-11-30T12:00+01:00"), run)
    [again] = clock.advance("2d", run)[1]
    assert again.answer["duplicate"] is True
    monthly.drain()
    assert len(sent_emails()) == 1


def test_the_clock_skips_disabled_rules_and_follows_summer_time(monthly):
    save_rule("demo", MONTHLY)
    save_rule("demo", MONTHLY | {"id": "paused", "enabled": False})
    run = invoke(monthly.stack)
    clock.move_to(clock.parse_time("2026-05-31T12:00+02:00"), run)
    [june] = clock.advance("2d", run)[1]
    assert (june.rule_id, june.slot) == ("monthly-report", "2026-06-01T06:00:00Z")  # 08:00 CEST


@pytest.fixture
def cli(monthly, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGELWERK_STATE", str(tmp_path / "local.json"))
    monthly.stack.write_state()

    def run(*argv: str) -> tuple[int, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out + out.err

    return run


def test_clock_command(cli):
    save_rule("demo", MONTHLY)
    assert cli("clock", "set", "2026-11-30T12:00+01:00") == (
        0,
        f"local clock on local stack at {clock_endpoint()}: 2026-11-30T12:00:00+01:00; 0 schedule run(s) due\n",
    )
    code, out = cli("clock", "advance", "7d")
    assert code == 0
    assert "1 schedule run(s) due" in out
    assert "2026-12-01T07:00:00Z  demo/monthly-report  fired monthly-report, 1 action(s) queued" in out
    code, out = cli("clock", "set", "2026-12-01T08:00", "--stack", "prod")
    assert code == 2 and "local stack" in out
    code, out = cli("clock", "set", "2026-12-01T08:00")
    assert code == 2 and "has no UTC offset" in out


def clock_endpoint() -> str:
    import os

    return os.environ["AWS_ENDPOINT_URL"]
