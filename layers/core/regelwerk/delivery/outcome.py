"""What performing an action can end in: an Outcome, or one of the two ways of trying again later."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """An action performed: the provider's id, its output for later actions (``as``), details for the run log."""

    provider_id: str | None = None
    output: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    state: str = "sent"  # "done" for actions that change data; "stopped" / "skipped" when a check held it back


class RetryLater(Exception):
    """Another consumer holds the claim right now: let SQS deliver this message again later."""


class Throttled(Exception):
    """The provider refused for its sending rate (SES, SNS): nothing was sent, try again after a pause."""
