"""The regelwerk command line against the local stack: apply with a diff, prune, export, test, runs, dlq."""

from __future__ import annotations

import shutil

import pytest
import yaml

from regelwerk_cli.main import main
from tests.conftest import DEMO_SHOP, order_event


@pytest.fixture
def cli(demo_shop, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGELWERK_STATE", str(tmp_path / "local.json"))
    demo_shop.stack.write_state()

    def run(*argv: str) -> tuple[int, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out + out.err

    run.shop = demo_shop
    run.tmp = tmp_path
    return run


def test_apply_dry_run_shows_the_diff_and_changes_nothing(cli):
    copy = cli.tmp / "shop"
    shutil.copytree(DEMO_SHOP, copy)
    rule = yaml.safe_load((copy / "rules" / "thank-you.yaml").read_text())
    rule["name"] = "Thank you, renamed"
    (copy / "rules" / "thank-you.yaml").write_text(yaml.safe_dump(rule))
    (copy / "rules" / "big-order-alert.yaml").unlink()
    code, out = cli("apply", str(copy), "--dry-run")
    assert code == 0
    assert "~ rule thank-you: name (a new version)" in out
    assert "- rule big-order-alert (not in the directory; --prune deletes it)" in out
    code, out = cli("apply", str(copy), "--prune")
    assert "rule thank-you: version 2" in out and "rule big-order-alert: deleted" in out
    code, out = cli("apply", str(copy), "--dry-run")
    assert "no changes" in out


def test_apply_refuses_a_broken_directory_and_applies_nothing(cli):
    copy = cli.tmp / "shop"
    shutil.copytree(DEMO_SHOP, copy)
    (copy / "rules" / "broken.yaml").write_text("id: broken\nname: B\ntrigger: {event: order.nope}\nactions: []\n")
    code, out = cli("apply", str(copy))
    assert code == 2
    assert "broken.yaml: $.trigger.event" in out


def test_export_writes_what_apply_reads_back_unchanged(cli):
    code, out = cli("export", "demo", str(cli.tmp / "exported"))
    assert code == 0 and "rules/thank-you.yaml" in out
    code, out = cli("apply", str(cli.tmp / "exported"), "--dry-run")
    assert "no changes" in out


def test_test_command_renders_without_sending(cli):
    cli.shop.post(order_event(1))
    code, out = cli("test", "thank-you", "--shop", "demo", "--order", "9007199254740993")
    assert code == 0
    assert '"subject": "Danke für Ihre Bestellung 1001"' in out


def test_runs_explains_and_dlq_lists_and_redrives(cli):
    from regelwerk.store.rules import save_rule, save_template

    save_template("demo", "broken", "de", {"subject": "{{ order.nope.x }}", "text": "x"})
    save_rule(
        "demo",
        {
            "id": "broken",
            "name": "Broken",
            "trigger": {"event": "order.imported"},
            "actions": [{"type": "email", "template": "broken"}],
        },
    )
    cli.shop.post(order_event(1))
    cli.shop.drain()
    code, out = cli("runs", "demo")
    assert "FIRED thank-you" in out and "dead_lettered" in out
    code, out = cli("dlq", "demo")
    assert ":broken:0" in out and "rule broken" in out
    # the template is fixed, the action is sent again, and nothing that went out is sent twice
    save_template("demo", "broken", "de", {"subject": "Repariert", "text": "x"})
    code, out = cli("dlq", "demo", "--redrive")
    assert "sent back to the queue" in out
    cli.shop.drain()
    from tests.conftest import sent_emails

    subjects = [m["Subject"] for m in sent_emails()]
    assert subjects.count("Repariert") == 1 and subjects.count("Danke für Ihre Bestellung 1001") == 1
    assert cli("dlq", "demo")[1].strip() == "no dead-lettered actions for shop demo"


@pytest.mark.parametrize(
    "argv",
    [
        ("keys", "create", "nosuchshop"),
        ("export", "nosuchshop", "{tmp}/out"),
        ("runs", "nosuchshop"),
        ("dlq", "nosuchshop"),
    ],
)
def test_an_unknown_shop_is_one_line_and_exit_1_for_every_command(cli, argv):
    code, out = cli(*(a.format(tmp=cli.tmp) for a in argv))
    assert code == 1
    assert out == "regelwerk: unknown shop 'nosuchshop'\n"
    assert not (cli.tmp / "out").exists()
