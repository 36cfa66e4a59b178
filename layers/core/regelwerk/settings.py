"""Configuration from environment variables, read once into a validated object.

Domain code receives a Settings; only this module reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    shops_table: str = "ShopsTable"
    rules_table: str = "RulesTable"
    orders_table: str = "OrdersTable"
    customers_table: str = "CustomersTable"
    invoices_table: str = "InvoicesTable"
    runs_table: str = "RunsTable"
    idempotency_table: str = "IdempotencyTable"
    tasks_table: str = "TasksTable"
    console_table: str = "ConsoleTable"  # the console's sessions and sign-in counters
    # the console's people: a Cognito user pool and its app client (the admin API accepts their access tokens)
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    # dead-letter queues, for the console's redrive
    mail_dlq_url: str = ""
    sms_dlq_url: str = ""
    pdf_dlq_url: str = ""
    actions_dlq_url: str = ""
    mail_queue_url: str = ""
    sms_queue_url: str = ""
    pdf_queue_url: str = ""
    actions_queue_url: str = ""
    # delays longer than SQS's 15 minutes: one-time Scheduler schedules that put the action on this queue
    actions_queue_arn: str = ""
    delay_role_arn: str = ""
    # hosts (host:port) an outgoing webhook may reach over http:// or on a private address (the local stack's receiver)
    webhook_allow_hosts: str = ""
    documents_bucket: str = ""
    pdf_function_name: str = ""  # the admin API's document previews invoke it
    sender_address: str = "no-reply@example.com"
    ses_configuration_set: str = ""
    paging_secret: str = ""
    # EventBridge Scheduler: where a rule's schedule triggers go (set on the functions that save rules)
    schedule_group: str = ""
    schedule_target_arn: str = ""
    scheduler_role_arn: str = ""
    schedule_dlq_arn: str = ""
    portal_secret: str = ""
    portal_base_url: str = ""  # the API's URL; empty -> the local stack's (local_url)
    local_url: str = "http://127.0.0.1:3000"  # the local stack's API (make serve --port sets it)
    portal_link_days: int = 30
    stage: str = "dev"
    run_retention_days: int = 90
    rules_cache_seconds: int = 30
    max_body_bytes: int = 256 * 1024
    aws_region: str = "eu-central-1"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None and f.name == "aws_region":
                raw = env.get("AWS_DEFAULT_REGION")
            if raw is None or raw == "":
                continue
            if f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError as exc:
                    raise ValueError(f"environment variable {f.name.upper()} must be an integer") from exc
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    @property
    def portal_url_base(self) -> str:
        """Where customer portal links point: the deployed API, or `make serve`'s port on the local stack."""
        if self.stage == "local" or not self.portal_base_url:
            return self.local_url.rstrip("/")
        return self.portal_base_url.rstrip("/")

    def queue_url(self, queue: str) -> str:
        url = {
            "mail": self.mail_queue_url,
            "sms": self.sms_queue_url,
            "pdf": self.pdf_queue_url,
            "actions": self.actions_queue_url,
        }[queue]
        if not url:
            raise RuntimeError(f"{queue.upper()}_QUEUE_URL is not configured for this function")
        return url


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
