"""`regelwerk users`: people who sign in to the console, created, listed and removed from the command line."""

from __future__ import annotations

from regelwerk.api.identity import NewPasswordRequired, Tokens, sign_in
from tests.integration.test_cli import cli  # noqa: F401 - the fixture


def test_users_are_created_listed_and_removed(cli):  # noqa: F811
    code, out = cli(
        "users", "create", "demo", "Owner@Demo.example", "--role", "owner", "--password", "Owner-Password-2026"
    )
    assert code == 0 and "owner@demo.example is owner of shop demo" in out
    assert isinstance(sign_in("owner@demo.example", "Owner-Password-2026"), Tokens)

    code, out = cli("users", "create", "demo", "staff@demo.example", "--role", "viewer")
    temporary = out.splitlines()[0]  # stdout (the password alone), then the notes on stderr
    assert code == 0 and "one-time password" in out and len(temporary) >= 12
    assert isinstance(sign_in("staff@demo.example", temporary), NewPasswordRequired)  # their own at first sign-in

    code, out = cli("users", "list", "demo")
    assert out.splitlines() == ["owner@demo.example\towner", "staff@demo.example\tviewer"]

    code, out = cli("users", "remove", "demo", "staff@demo.example")
    assert code == 0
    assert cli("users", "list", "demo")[1].splitlines() == ["owner@demo.example\towner"]
    code, out = cli("users", "remove", "demo", "staff@demo.example")
    assert code == 1 and "has no role in shop demo" in out


def test_an_unknown_shop_or_role_is_refused(cli):  # noqa: F811
    code, out = cli("users", "create", "nosuchshop", "a@b.example", "--role", "owner")
    assert code == 1 and out == "regelwerk: unknown shop 'nosuchshop'\n"
    code, out = cli("users", "list", "nosuchshop")
    assert code == 1 and out == "regelwerk: unknown shop 'nosuchshop'\n"
