"""`regelwerk users`: the people who sign in to the console, each with a role in a shop (owner or viewer)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def cmd_create(args: argparse.Namespace) -> int:
    where = args.target(args)
    from regelwerk.api.identity import add_person

    binding, temporary = add_person(args.shop, args.email, args.role, args.password)
    print(f"# {binding.email} is {binding.role} of shop {binding.shop_id} on {where}", file=sys.stderr)
    if temporary:
        print("# one-time password, shown only now; a new password is chosen at the first sign-in:", file=sys.stderr)
        print(temporary)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.store.people import people_of
    from regelwerk.store.shops import get_shop

    get_shop(args.shop)
    for person in people_of(args.shop):
        print(f"{person.email}\t{person.role}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.api.identity import remove_person

    if not remove_person(args.shop, args.email):
        print(f"regelwerk: {args.email} has no role in shop {args.shop}", file=sys.stderr)
        return 1
    print(f"# {args.email} no longer opens shop {args.shop}", file=sys.stderr)
    return 0


def add_commands(sub: Any, targeted: Callable[[argparse.ArgumentParser], None], target: Callable[..., str]) -> None:
    p = sub.add_parser("users", help="people who sign in to the console, with a role per shop")
    us = p.add_subparsers(dest="users_command", required=True)
    c = us.add_parser("create", help="give a person (new or not) a role in a shop; prints a one-time password")
    c.add_argument("shop")
    c.add_argument("email")
    c.add_argument("--role", choices=["owner", "viewer"], required=True)
    c.add_argument("--password", help="set this password instead of printing a one-time one")
    targeted(c)
    c.set_defaults(func=cmd_create, target=target)
    c = us.add_parser("list", help="the people of a shop and their roles")
    c.add_argument("shop")
    targeted(c)
    c.set_defaults(func=cmd_list, target=target)
    c = us.add_parser("remove", help="take a person's role in a shop away (at once)")
    c.add_argument("shop")
    c.add_argument("email")
    targeted(c)
    c.set_defaults(func=cmd_remove, target=target)
