"""Shared fixtures: one embedded local stack (moto's server on 127.0.0.1) built from template.yaml.

The stack starts when this file is imported, before any test module imports regelwerk, so the
domain's settings and table models see the same resource names the template gives them.
"""

from __future__ import annotations

import email
import json
import os
from email import policy
from pathlib import Path
from typing import Any

import pytest

from regelwerk_cli.localstack import LocalStack, free_port
from regelwerk_cli.platform_events import ensure_demo_secrets
from regelwerk_cli.receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]
DEMO_SHOP = ROOT / "examples" / "demo-shop"
EVENTS = ROOT / "events" / "demo"
ensure_demo_secrets()
os.environ["REGELWERK_HOOKS_PORT"] = str(free_port())  # each test process its own receiver: no fixed port
STACK = LocalStack().start()
# the demo shop's ERP webhook (examples/demo-shop/rules/packing-task.yaml) posts here, as in `make demo`
STACK.receiver = Receiver().start()


class Shop:
    """A shop set up on the local stack, with helpers to post events and read what went out."""

    def __init__(self, stack: LocalStack, shop_id: str, key: str, admin_key: str):
        self.stack = stack
        self.id = shop_id
        self.key = key
        self.admin_key = admin_key

    def post(
        self,
        body: bytes | str | dict,
        *,
        key: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        hdrs = {"Content-Type": "application/json"}
        if key is not None or self.key:
            hdrs["Authorization"] = f"Bearer {key if key is not None else self.key}"
        hdrs.update(headers or {})
        status, _, answer = self.stack.invoke_http("POST", path or f"/v1/shops/{self.id}/events/regelwerk", hdrs, raw)
        return status, json.loads(answer or b"{}")

    def drain(self) -> int:
        return self.stack.drain()

    def admin(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        """An admin API call on this shop (``path`` after ``/v1/shops/<shop>``) with its admin key."""
        status, _, answer = self.stack.invoke_http(
            method,
            f"/v1/shops/{self.id}{path}",
            {"Authorization": f"Bearer {self.admin_key}", "Content-Type": "application/json"},
            json.dumps(body) if body is not None else None,
        )
        return status, json.loads(answer or b"{}")

    def run(self, run_id: str) -> dict[str, Any]:
        from regelwerk.store.runs import get_run

        return get_run(self.id, run_id)


def sent_emails() -> list[email.message.EmailMessage]:
    from moto.ses.models import ses_backends

    from regelwerk_cli.cfn import ACCOUNT
    from regelwerk_cli.localstack import REGION

    return [
        email.message_from_bytes(m.raw_data.encode(), policy=policy.default)
        for m in ses_backends[ACCOUNT][REGION].sent_messages
        if getattr(m, "raw_data", None)
    ]


def sent_sms() -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    from regelwerk_cli.cfn import ACCOUNT
    from regelwerk_cli.localstack import REGION

    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


def order_event(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A demo event file as a dict, with order fields replaced by ``changes``."""
    name = sorted(EVENTS.glob(f"{n:02d}-*.json"))[0]
    body = json.loads(name.read_text())
    body["order"].update(changes)
    return body


@pytest.fixture(scope="session")
def stack() -> LocalStack:
    return STACK


_CHECKPOINTS: dict[str, Any] = {}  # the empty stack and the demo shop, made once per session


@pytest.fixture
def fresh(stack: LocalStack) -> LocalStack:
    """An empty stack: every table, queue and bucket of template.yaml, and nothing in them.

    Made once with ``reset`` (moto reset, then the template's resources created); before every later
    test the stack is rewound to that checkpoint in memory, which is the same state a thousand times faster.
    """
    empty = _CHECKPOINTS.get("empty")
    if empty is None or not stack.can_rewind(empty):  # first use, or a test reset the stack itself
        _CHECKPOINTS.clear()
        stack.reset()
        _CHECKPOINTS["empty"] = stack.checkpoint()
    else:
        stack.rewind(empty)
    return stack


@pytest.fixture
def demo_shop(fresh: LocalStack) -> Shop:
    """The demo shop of examples/demo-shop applied as `regelwerk apply` does, with an ingest and an admin key."""
    from regelwerk.store.shops import create_key
    from regelwerk_cli import config_dir

    if "demo" not in _CHECKPOINTS:
        config = config_dir.read(DEMO_SHOP)
        config_dir.apply(config)
        fresh.verify_sender(config.shop["sender"]["email"])
        keys = (create_key("demo", "ingest"), create_key("demo", "admin"))
        _CHECKPOINTS["demo"] = (fresh.checkpoint(), keys)
    else:
        fresh.rewind(_CHECKPOINTS["demo"][0])
    return Shop(fresh, "demo", *_CHECKPOINTS["demo"][1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first: on two workers (make test) the longest one starts at once instead of last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
