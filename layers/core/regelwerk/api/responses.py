"""How every door answers a refused request: the status and body a ``RegelwerkError`` carries, logged once.

The HTTP handlers in ``functions/`` register ``refuse_with_json`` (or, for pages, their own HTML body
around ``log_refusal``) instead of each writing its own handler.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from ..errors import RegelwerkError
from ..observability import logger


def log_refusal(error: RegelwerkError, what: str = "request") -> None:
    """One log line per refusal: the status and the error code, never the request's data."""
    logger.info(f"{what} refused", extra={"status": error.status, "error": error.code})


def refusal(error: RegelwerkError) -> Response[Any]:
    """The JSON answer to a refused request: ``{"error", "message", "problems"?}`` with the error's status."""
    log_refusal(error)
    return Response(status_code=error.status, content_type=content_types.APPLICATION_JSON, body=error.as_dict())


def refusal_event(error: RegelwerkError) -> dict[str, Any]:
    """The same answer as an API Gateway proxy response, for refusals before a resolver routes (the admin key)."""
    log_refusal(error)
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(error.as_dict()),
        "isBase64Encoded": False,
    }


def refuse_with_json(app: APIGatewayRestResolver) -> None:
    """Answer every ``RegelwerkError`` a route raises with its status and JSON body."""
    app.exception_handler(RegelwerkError)(refusal)
