"""Errors the domain raises, each carrying what an API answer needs to say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


@dataclass
class Problem:
    """One thing wrong with an input: where (a JSON path such as ``$.order.items[0].quantity``) and why."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


class RegelwerkError(Exception):
    """Base class: an error with an HTTP status and a machine-readable code."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def as_dict(self) -> dict:
        body: dict = {"error": self.code, "message": self.message}
        if self.problems:
            body["problems"] = [p.as_dict() for p in self.problems]
        return body


class MalformedBody(RegelwerkError):
    status = 400
    code = "malformed_body"


class InvalidInput(RegelwerkError):
    status = 422
    code = "validation_failed"


class Unauthorized(RegelwerkError):
    status = 401
    code = "unauthorized"


class Forbidden(RegelwerkError):
    status = 403
    code = "forbidden"


class NotFound(RegelwerkError):
    status = 404
    code = "not_found"


class PayloadTooLarge(RegelwerkError):
    status = 413
    code = "payload_too_large"


class Conflict(RegelwerkError):
    status = 409
    code = "conflict"


class ServiceUnavailable(RegelwerkError):
    """Something the request needs is missing on our side (e.g. a secret reference that does not resolve).

    503, so the sender retries: it succeeds once the configuration is fixed.
    """

    status = 503
    code = "unavailable"


class ActionFailed(Exception):
    """An action could not be carried out; the message is retried and ends in the DLQ."""


def pydantic_problems(
    exc: ValidationError, prefix: str = "$", union_tags: frozenset[str] = frozenset()
) -> list[Problem]:
    """Turn a pydantic ValidationError into problems with JSON paths.

    ``union_tags`` are discriminator values pydantic puts into the location (``actions[0].email``);
    they are no part of the JSON path.
    """
    problems = []
    for err in exc.errors(include_url=False):
        path = prefix
        previous = None
        for part in err["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif isinstance(previous, int) and part in union_tags:
                pass
            elif str(part).startswith("function-") or "[" in str(part) or str(part)[:1].isupper():
                pass  # validator / union member (model class) names in the location: no JSON path segment
            else:
                path += f".{part}"
            previous = part
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown field"
        elif err["type"] == "missing":
            reason = "required field is missing"
        problems.append(Problem(path, reason))
    return problems
