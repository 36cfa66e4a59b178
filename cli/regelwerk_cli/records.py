"""`regelwerk orders`, `order`, `invoices`, `invoice`: the admin API's read routes as tables (or --json); `reindex`
puts what was stored before the read indexes existed into them."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any


def table(head: Sequence[str], rows: list[Sequence[str]]) -> str:
    """Rows under a header, each column as wide as its widest cell."""
    cells = [list(head), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def money(value: dict[str, str] | None) -> str:
    return f"{value['amount']} {value['currency']}" if value else "-"


def by_id_or_number(find: Callable[[str, str], dict[str, Any]], shop_id: str, ref: str) -> dict[str, Any]:
    """The record of an id, ``number:1001[@channel]``, or a bare number no id matches (``1001``)."""
    from regelwerk.errors import NotFound

    try:
        return find(shop_id, ref)
    except NotFound:
        if ref.startswith("number:"):
            raise
        return find(shop_id, "number:" + ref)


def resolve_order(shop_id: str, ref: str) -> str:
    """An order id for `regelwerk test --order`: the id, ``number:1001[@channel]`` or a bare number."""
    from regelwerk.store.orders import get_order_item

    return by_id_or_number(lambda s, r: {"id": get_order_item(s, r).order_id}, shop_id, ref)["id"]


def _page_end(page: dict[str, Any], what: str) -> str:
    shown = len(page[what])
    more = f"; more with --next {page['next']}" if page.get("next") else ""
    return f"{shown} {what if shown != 1 else what[:-1]}{more}"


def naming_options(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A refused filter says which option in its one line: ``invalid filter: --since: an ISO date ...``."""

    def run(args: argparse.Namespace) -> int:
        from regelwerk.errors import RegelwerkError

        try:
            return command(args)
        except RegelwerkError as exc:
            if exc.problems:
                named = "; ".join(f"--{p.path.removeprefix('$.')}: {p.reason}" for p in exc.problems)
                exc.message = f"{exc.message}: {named}"
            raise

    return run


def _out(args: argparse.Namespace, data: dict[str, Any], text: Callable[[dict[str, Any]], str]) -> int:
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text(data))
    return 0


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    """The filters both lists take, from the options `listing` adds."""
    names = ("number", "customer", "status", "since", "until", "limit")
    return {name: getattr(args, name) for name in names} | {"token": args.next}


def cmd_orders(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.store.orders import list_orders
    from regelwerk.store.shops import get_shop

    shop_id = get_shop(args.shop).id  # an unknown shop is an error, not an empty list
    page = list_orders(shop_id, email=args.email, channel=args.channel, **_filters(args))

    def text(page: dict[str, Any]) -> str:
        rows = [
            (o["created_at"], o["number"], o["channel"], o["status"], money(o["total"]), o["email"] or "-", o["id"])
            for o in page["orders"]
        ]
        head = ("placed", "number", "channel", "status", "total", "e-mail", "id")
        return table(head, rows) + "\n" + _page_end(page, "orders")

    return _out(args, page, text)


def cmd_invoices(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.store.invoices import list_invoices
    from regelwerk.store.shops import get_shop

    shop_id = get_shop(args.shop).id
    order = resolve_order(shop_id, args.order) if args.order else None
    page = list_invoices(shop_id, order=order, **_filters(args))

    def text(page: dict[str, Any]) -> str:
        rows = [
            (i["issued_at"], i["number"], i["status"], money(i["amount"]), i["due_at"], i["order_id"] or "-", i["id"])
            for i in page["invoices"]
        ]
        head = ("issued", "number", "status", "amount", "due", "order", "id")
        return table(head, rows) + "\n" + _page_end(page, "invoices")

    return _out(args, page, text)


def _timeline(detail: dict[str, Any]) -> list[str]:
    """History, messages and documents of an order or invoice, as lines."""
    lines = ["", "history:"]
    lines += [f"  {h['at']}  {h['event']}  (run {h['run_id']})" for h in detail["status_history"]] or ["  -"]
    lines += ["", "runs:"]
    lines += [
        f"  {r['received_at']}  {', '.join(r['events']) or '-'}  [{r['status']}]  fired: "
        f"{', '.join(r['rules_fired']) or '-'}  run {r['run_id']}"
        for r in detail["runs"]
    ] or ["  -"]
    lines += ["", "messages:"]
    lines += [
        f"  {m.get('at') or '-'}  {m['type']}  {m['state']}  rule {m['rule']}"
        + (f"  - {m['reason']}" if m.get("reason") else "")
        for m in detail["messages"]
    ] or ["  -"]
    lines += ["", "documents:"]
    lines += [
        f"  {d.get('document') or (d.get('output') or {}).get('document') or '-'}  "
        f"{(d.get('output') or {}).get('filename') or d.get('filename') or '-'}  {d.get('state', 'stored')}"
        for d in detail["documents"]
    ] or ["  -"]
    return lines


def cmd_order(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.api.records import order_detail
    from regelwerk.store.shops import get_shop

    detail = by_id_or_number(order_detail, get_shop(args.shop).id, args.ref)

    def text(detail: dict[str, Any]) -> str:
        o = detail["order"]
        customer = o.get("customer") or {}
        name = " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))
        lines = [
            f"order {o['number']} ({o['channel']}, id {o['id']})  [{o['status']}]",
            f"  placed {o['created_at']}, total {o['total']} {o['currency']}, {len(o.get('line_items') or [])} line(s)",
            f"  customer {name or '-'} <{customer.get('email') or '-'}>, customer id {detail['customer_id']}",
        ]
        if detail["invoices"]:
            lines.append("  invoices: " + ", ".join(f"{i['number']} ({i['id']})" for i in detail["invoices"]))
        return "\n".join(lines + _timeline(detail))

    return _out(args, detail, text)


def cmd_invoice(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.api.records import invoice_detail
    from regelwerk.store.shops import get_shop

    detail = by_id_or_number(invoice_detail, get_shop(args.shop).id, args.ref)

    def text(detail: dict[str, Any]) -> str:
        i = detail["invoice"]
        lines = [
            f"invoice {i['number']} (id {i['id']})  [{i['status']}]",
            f"  issued {i['issued_at']}, due {i['due_at']}, amount {i['amount']} {i['currency']}, "
            f"dunning level {i['dunning_level']}",
            f"  order {i.get('order_id') or '-'}, customer {i.get('customer_id') or '-'}",
        ]
        return "\n".join(lines + _timeline(detail))

    return _out(args, detail, text)


def cmd_reindex(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.store.invoices import reindex_invoices
    from regelwerk.store.orders import reindex_orders
    from regelwerk.store.runs import reindex_runs
    from regelwerk.store.shops import get_shop

    shop_id = get_shop(args.shop).id
    counts = (reindex_orders(shop_id), reindex_invoices(shop_id), reindex_runs(shop_id))
    print("indexed {} order(s), {} invoice(s), {} run(s) of shop {}".format(*counts, shop_id))
    return 0


def cmd_migrate_customer_ids(args: argparse.Namespace) -> int:
    args.target(args)
    from regelwerk.store.customer_ids import migrate_customer_ids
    from regelwerk.store.shops import get_shop

    shop_id = get_shop(args.shop).id
    counts = migrate_customer_ids(shop_id)
    print(
        f"moved {counts['moved']} customer(s) of shop {shop_id} to keyed ids; "
        f"{counts['kept']} kept their id (keyed already, or matched on other data)"
    )
    return 0


def add_commands(
    sub: Any, targeted: Callable[[argparse.ArgumentParser], None], target: Callable[[argparse.Namespace], str]
) -> None:
    """The four read commands on the `regelwerk` parser; ``target`` connects to the local stack or --stack."""

    def listing(p: argparse.ArgumentParser) -> None:
        p.add_argument("shop")
        p.add_argument("--number", help="the shop's own number")
        p.add_argument("--customer", help="a customer id")
        p.add_argument("--status")
        p.add_argument("--since", help="an ISO date (2026-11-01) or a time with its zone")
        p.add_argument("--until", help="an ISO date (up to its end) or a time with its zone")
        p.add_argument("--limit", type=int, default=50)
        p.add_argument("--next", help="the token the previous page printed")
        p.add_argument("--json", action="store_true", help="the API's answer as JSON")
        targeted(p)

    def command(name: str, run: Callable[[argparse.Namespace], int], help_: str, ref: str | None = None) -> Any:
        p = sub.add_parser(name, help=help_)
        if ref is None:
            listing(p)
        else:
            p.add_argument("shop")
            p.add_argument("ref", metavar="ID|NUMBER", help=ref)
            p.add_argument("--json", action="store_true", help="the API's answer as JSON")
            targeted(p)
        p.set_defaults(func=naming_options(run), target=target)
        return p

    p = command("orders", cmd_orders, "list a shop's orders, newest first (filters: number, e-mail, status, ...)")
    p.add_argument("--email")
    p.add_argument("--channel", help="shopify, woocommerce, ...")
    p = command("invoices", cmd_invoices, "list a shop's invoices, newest first")
    p.add_argument("--order", help="an order id or number:1001")
    whole = "one {} with its history, runs, messages and documents"
    command("order", cmd_order, whole.format("order"), "an order id, its number (1001), or number:1001@<channel>")
    command("invoice", cmd_invoice, whole.format("invoice"), "an invoice id or its number")
    p = sub.add_parser("reindex", help="once after an upgrade: put the records stored before it in the read indexes")
    p.add_argument("shop")
    targeted(p)
    p.set_defaults(func=cmd_reindex, target=target)
    p = sub.add_parser(
        "migrate-customer-ids",
        help="once after an upgrade: move customers stored under legacy (unkeyed) ids to the shop's HMAC ids",
    )
    p.add_argument("shop")
    targeted(p)
    p.set_defaults(func=cmd_migrate_customer_ids, target=target)
