"""The `regelwerk` command: demo, serve, apply, keys, runs, orders and invoices."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import cfn

ROOT = cfn.ROOT
DEMO_SHOP = ROOT / "examples" / "demo-shop"
DEMO_EVENTS = ROOT / "events" / "demo"
PLATFORM_EVENTS = ROOT / "events" / "platforms"
OUTBOX = Path.cwd() / "outbox"


def _target(args: argparse.Namespace) -> str:
    from .target import use_local, use_stack

    return use_stack(args.stack, args.region) if args.stack else use_local()


def cmd_apply(args: argparse.Namespace) -> int:
    from . import config_dir, sender

    where = _target(args)
    try:
        config = config_dir.read(Path(args.directory))
    except config_dir.ConfigError as exc:
        print("nothing applied; fix these first:", *exc.problems, sep="\n  ", file=sys.stderr)
        return 2
    address = sender.sender_of(config.shop)
    checked = None
    if address and args.stack:  # a deployed stack: SES must already let the shop send from it
        try:
            checked = sender.check_in_ses(address)
        except sender.SenderNotVerified as exc:
            print(f"nothing applied: {exc}", file=sys.stderr)
            return 2
    changes = config_dir.diff(config)
    print(f"{'would apply' if args.dry_run else 'applying'} {args.directory} to {where}:")
    for line in changes or ["no changes"]:
        print("  " + line)
    if checked:
        print("  " + checked)
    if args.dry_run:
        return 0
    if address and not args.stack:  # the local stack stands in for SES: verify the sender there
        print("  " + sender.verify_locally(address))
    for line in config_dir.apply(config):
        print("  " + line)
    if args.prune:
        for line in config_dir.prune(config):
            print("  " + line)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from regelwerk.store.shops import get_shop

    from . import config_dir

    where = _target(args)
    get_shop(args.shop)  # before any file is written
    for line in config_dir.export(args.shop, Path(args.directory)):
        print(f"  wrote {line}")
    print(f"exported shop {args.shop} from {where} to {args.directory}")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    _target(args)
    from regelwerk.api.dryrun import test_rule
    from regelwerk.errors import RegelwerkError
    from regelwerk.store.shops import get_shop

    from .records import resolve_order

    try:
        shop = get_shop(args.shop)
        answer = test_rule(shop, rule_id=args.rule, order_id=resolve_order(shop.id, args.order), event=args.event)
    except RegelwerkError as exc:
        print(json.dumps(exc.as_dict(), indent=2, ensure_ascii=False), file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    from regelwerk.store.shops import get_shop

    from .dlq import dead_letters

    _target(args)
    get_shop(args.shop)  # an unknown shop is an error, not an empty list
    for line in dead_letters(args.shop, redrive=args.redrive):
        print(line)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    where = _target(args)
    from regelwerk.store.shops import create_key

    key = create_key(args.shop, args.scope, label=args.label)
    print(f"# new {args.scope} key for shop {args.shop} on {where}; it is shown only this once:", file=sys.stderr)
    print(key)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    _target(args)
    from regelwerk.store.shops import list_keys

    keys = list_keys(args.shop)
    if args.json:
        print(json.dumps(keys, indent=1))
        return 0
    print(f"{'id':<18} {'scope':<7} {'created':<26} {'last used':<26} label")
    for k in keys:
        print(
            f"{k['id']:<18} {k['scope']:<7} {(k['created_at'] or '-'):<26} {(k['last_used_at'] or 'never'):<26} "
            f"{k['label'] or ''}"
        )
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    where = _target(args)
    from regelwerk.store.shops import revoke_key

    gone = revoke_key(args.shop, args.key_id)
    print(f"revoked {gone['id']} ({gone['scope']}, {gone['label'] or 'no label'}) of shop {args.shop} on {where}")
    return 0


def cmd_clock(args: argparse.Namespace) -> int:
    from . import clock

    if args.stack:
        print(
            "regelwerk: the clock is the local stack's; a deployed stack runs on EventBridge Scheduler's",
            file=sys.stderr,
        )
        return 2
    where = _target(args)
    invoke = _local_invoker()
    try:
        if args.clock_command == "set":
            when = clock.parse_time(args.time)
            fired = clock.move_to(when, invoke)
        elif args.clock_command == "advance":
            when, fired = clock.advance(args.step, invoke)
        else:
            current = clock.now()
            print(f"local clock on {where}: {current.isoformat() if current else 'not set'}")
            return 0
    except clock.ClockError as exc:
        print(f"regelwerk: {exc}", file=sys.stderr)
        return 2
    print(f"local clock on {where}: {when.isoformat()}; {len(fired)} schedule run(s) due")
    for item in fired:
        print("  " + item.describe())
    return 1 if any(f.error for f in fired) else 0


def _local_invoker():
    """Invoke the template's functions in this process, against the local stack (`make serve` delivers the queues)."""
    import warnings

    from .localstack import REGION, FakeContext, load_handler

    warnings.filterwarnings("ignore", message="No application metrics to publish")  # as the local stack does
    functions = cfn.functions(cfn.load_template(), cfn.LocalResources(), REGION)
    handlers: dict = {}

    def invoke(logical_id: str, event: dict):
        if logical_id not in handlers:
            handlers[logical_id] = load_handler(functions[logical_id])
        return handlers[logical_id](event, FakeContext(logical_id, timeout=functions[logical_id].timeout))

    return invoke


def cmd_runs(args: argparse.Namespace) -> int:
    _target(args)
    from regelwerk.store.runs import search_runs
    from regelwerk.store.shops import get_shop

    from .records import resolve_order

    get_shop(args.shop)  # an unknown shop is an error, not an empty log
    order = resolve_order(args.shop, args.order) if args.order else None
    fired = {"true": True, "false": False}.get(args.fired or "")
    found = search_runs(args.shop, order_id=order, rule=args.rule, fired=fired, limit=args.limit)["runs"]
    for run in reversed(found):
        print(describe_run(run))
    return 0


def describe_run(run: dict) -> str:
    lines = [
        f"{run['received_at']}  {run.get('order_number') or run.get('invoice_number') or ''}  "
        f"[{run['status']}]  run {run['run_id']}"
    ]
    if run.get("note"):
        lines.append(f"    note: {run['note']}")
    for warning in run.get("warnings") or []:
        lines.append(f"    warning: {warning}")
    for ev in run.get("events", []):
        lines.append(f"    {ev['type']}")
        for r in ev["rules"]:
            lines.append(f"      {'FIRED' if r['fired'] else 'skip '} {r['rule']}: {r['reason']}")
    for aid, d in sorted(run.get("deliveries", {}).items()):
        extra = f" - {d['reason']}" if d.get("reason") else ""
        lines.append(f"      -> {aid.split(':', 2)[-1]}: {d['state']}{extra}")
    return "\n".join(lines)


DEMO_CLOCK_STEP = "7d"  # the review request of examples/demo-shop/rules/review-request.yaml comes due


def _advance_clock(stack, step: str) -> list:
    """Start the local clock at the real time (if unset) and move it on; deliver what came due."""
    from datetime import UTC, datetime

    from . import clock

    invoke = stack.invoke
    if clock.now() is None:
        clock.move_to(datetime.now(UTC).replace(microsecond=0), invoke)
    _, fired = clock.advance(step, invoke)
    stack.drain()
    return fired


def _start_demo_stack(log_level: str = "WARNING"):
    from . import config_dir
    from .localstack import LocalStack
    from .platform_events import ensure_demo_secrets

    ensure_demo_secrets()
    from .receiver import Receiver, choose_port

    choose_port()  # before the stack starts: its webhook allow-list names the receiver's port
    stack = LocalStack(log_level=log_level).start()

    stack.receiver = Receiver().start() or Receiver()  # the demo's ERP webhook lands here
    if stack.receiver.server is None:
        print(f"note: port {stack.receiver.address} is taken; the demo's webhook will fail and show why")
    config = config_dir.read(DEMO_SHOP)
    config_dir.apply(config)
    sender = (config.shop.get("sender") or {}).get("email")
    if sender:
        stack.verify_sender(sender)
    from regelwerk.store.shops import create_key

    shop_id = config.shop["id"]
    return stack, shop_id, create_key(shop_id, "ingest", "demo"), create_key(shop_id, "admin", "demo")


def _post_demo_events(stack, shop_id: str, key: str) -> list[dict]:
    from regelwerk.store.runs import get_run

    results = []
    for path in sorted(DEMO_EVENTS.glob("*.json")):
        body = path.read_bytes()
        route = "invoices/events" if b'"invoice"' in body[:200] else "events/regelwerk"
        status, _, answer = stack.invoke_http(
            "POST",
            f"/v1/shops/{shop_id}/{route}",
            {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            body,
        )
        stack.drain()
        data = json.loads(answer or b"{}")
        run = get_run(shop_id, data["run_id"]) if "run_id" in data else None
        results.append({"file": path.name, "status": status, "answer": data, "run": run})
    from .platform_events import signed

    for path in sorted(PLATFORM_EVENTS.glob("*.json")):  # real platform bodies, signed as each platform signs
        platform, headers, body = signed(path, key)
        status, _, answer = stack.invoke_http("POST", f"/v1/shops/{shop_id}/events/{platform}", headers, body)
        stack.drain()
        data = json.loads(answer or b"{}")
        results.append({"file": f"{PLATFORM_EVENTS.name}/{path.name}", "status": status, "answer": data})
    stack.drain()
    return results


def _summary(results: list[dict], shop_id: str) -> str:
    from regelwerk.store.runs import get_run

    head = ("event", "HTTP", "trigger events", "rules fired", "actions", "delivered")
    rows = [head]
    for r in results:
        a = r["answer"]
        run = get_run(shop_id, a["run_id"]) if "run_id" in a else None
        deliveries = (run or {}).get("deliveries", {})
        sent = sum(1 for d in deliveries.values() if d["state"] in ("sent", "done"))
        events = ", ".join(a.get("events", [])) + (" (duplicate)" if a.get("duplicate") else "")
        rows.append(
            (
                r["file"],
                str(r["status"]),
                events or "-",
                ", ".join(a.get("rules_fired", [])) or "-",
                str(len(deliveries) if not a.get("duplicate") else 0),
                f"{sent}/{len(deliveries)}" if not a.get("duplicate") else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def cmd_demo(args: argparse.Namespace) -> int:
    from . import outbox

    print("starting the embedded local stack (moto on 127.0.0.1) from template.yaml ...")
    stack, shop_id, key, _admin = _start_demo_stack()
    try:
        print(
            f"applied {DEMO_SHOP.relative_to(ROOT)}; posting {len(list(DEMO_EVENTS.glob('*.json')))} events "
            f"from {DEMO_EVENTS.relative_to(ROOT)} ..."
        )
        results = _post_demo_events(stack, shop_id, key)
        print(f"advancing the local clock by {DEMO_CLOCK_STEP}: delayed actions and schedules that come due run ...")
        for item in _advance_clock(stack, DEMO_CLOCK_STEP):
            print("  " + item.describe())
        assert stack.resources
        found = outbox.collect(
            OUTBOX, stack.resources.buckets["DocumentsBucket"], [shop_id], webhooks=stack.receiver.received
        )
        print()
        print(_summary(results, shop_id))
        print()
        dead = stack.dead_letters()
        print(
            f"outbox: {len(found['mail'])} e-mails, {len(found['sms'])} SMS, {len(found['pdf'])} PDFs, "
            f"{len(found['tasks'])} tasks, {len(found['webhooks'])} webhooks, "
            f"{len(found['runs'])} run-log entries; dead letters: {sum(len(v) for v in dead.values())}"
        )
        print(f"open {OUTBOX / 'index.html'} to read them and why each rule did or did not fire")
        if args.explain:
            from regelwerk.store.runs import list_runs

            for run in reversed(list_runs(shop_id)):
                print(describe_run(run))
        return 0 if found["mail"] else 1
    finally:
        stack.receiver.stop()
        stack.stop()


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(args.port, _start_demo_stack, _post_demo_events, OUTBOX)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="regelwerk", description="Automation rules for online shops.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the demo shop on the embedded local stack; results in ./outbox/")
    p.add_argument("--explain", action="store_true", help="print every run-log entry")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="keep the local stack up on 127.0.0.1 (API on --port) until Ctrl-C")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_serve)

    def targeted(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", help="a deployed CloudFormation stack instead of the local one")
        p.add_argument("--region", help="AWS region of --stack")

    p = sub.add_parser("apply", help="apply a shop directory (shop.yaml, rules/, templates/)")
    p.add_argument("directory")
    p.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    p.add_argument("--prune", action="store_true", help="delete live rules and templates the directory lacks")
    targeted(p)
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser("export", help="write a shop's live configuration to a directory")
    p.add_argument("shop")
    p.add_argument("directory")
    targeted(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("test", help="dry-run a saved rule against a stored order (nothing is sent)")
    p.add_argument("rule")
    p.add_argument("--shop", required=True)
    p.add_argument("--order", required=True, help="a stored order: its id, its number (1001) or number:1001@<channel>")
    p.add_argument("--event", help="the trigger event to assume (default: the rule's first trigger)")
    targeted(p)
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("dlq", help="list a shop's dead-lettered actions; --redrive sends them again")
    p.add_argument("shop")
    p.add_argument("--redrive", action="store_true")
    targeted(p)
    p.set_defaults(func=cmd_dlq)

    p = sub.add_parser("keys", help="manage API keys")
    ks = p.add_subparsers(dest="keys_command", required=True)
    c = ks.add_parser("create", help="create a key; printed once, stored only as a hash")
    c.add_argument("shop")
    c.add_argument("--scope", choices=["ingest", "admin"], default="ingest")
    c.add_argument("--label")
    targeted(c)
    c.set_defaults(func=cmd_keys)
    c = ks.add_parser("list", help="list a shop's keys: id, scope, label, created, last used (never the key)")
    c.add_argument("shop")
    c.add_argument("--json", action="store_true", help="JSON for scripts")
    targeted(c)
    c.set_defaults(func=cmd_keys_list)
    c = ks.add_parser("revoke", help="revoke a key by its id (keys list): it stops working at once")
    c.add_argument("shop")
    c.add_argument("key_id")
    targeted(c)
    c.set_defaults(func=cmd_keys_revoke)

    from .records import add_commands  # orders, order, invoices, invoice

    add_commands(sub, targeted, _target)
    from .users import add_commands as add_user_commands  # users create / list / remove

    add_user_commands(sub, targeted, _target)

    p = sub.add_parser("runs", help="show a shop's run log: why each rule did or did not fire")
    p.add_argument("shop")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--order", help="one order's runs: its id or number (1001, number:1001@shopify)")
    p.add_argument("--rule", help="the runs whose event this rule waits for")
    p.add_argument("--fired", choices=["true", "false"], help="with --rule: where it fired, or did not")
    targeted(p)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("clock", help="the local stack's clock: show, set or advance it; due schedules run")
    cs = p.add_subparsers(dest="clock_command")
    c = cs.add_parser("set", help="set the clock, e.g. 2026-12-01T08:00+01:00; moving forward runs due schedules")
    c.add_argument("time")
    targeted(c)
    c = cs.add_parser("advance", help="move the clock forward by 15m, 24h or 7d; due schedules run")
    c.add_argument("step")
    targeted(c)
    targeted(p)
    p.set_defaults(func=cmd_clock)

    args = parser.parse_args(argv)
    from regelwerk.errors import RegelwerkError

    from .target import TargetError

    try:
        return args.func(args)
    except TargetError as exc:
        print(f"regelwerk: {exc}", file=sys.stderr)
        return 2
    except RegelwerkError as exc:  # an unknown shop, rule or key, a refused input: one line, no traceback
        if args.debug:
            raise
        print(f"regelwerk: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
