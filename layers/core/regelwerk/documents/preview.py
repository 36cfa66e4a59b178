"""Document previews for the admin API: the PDF function renders, the admin function only asks.

The PDF libraries (fpdf2, segno, factur-x) live in the PDF function alone, so the admin function
invokes it synchronously with ``{"preview": {"kind", "context"}}`` and gets the PDF back, base64,
without anything stored. Locally, the embedded stack answers that invoke with the same handler.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..clients import client
from ..errors import InvalidInput, Problem
from ..model.messages import dumps
from ..settings import settings


def render_preview(kind: str, context: dict[str, Any]) -> tuple[bytes, str]:
    """(PDF bytes, file name) of one document for this context, rendered by the PDF function."""
    if not settings().pdf_function_name:
        raise RuntimeError("PDF_FUNCTION_NAME is not configured for this function")
    answer = client("lambda").invoke(
        FunctionName=settings().pdf_function_name,
        Payload=dumps({"preview": {"kind": kind, "context": context}}).encode(),
    )
    body = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError") or "error" in body:
        reason = body.get("error") or body.get("errorMessage") or "the PDF function failed"
        raise InvalidInput("the document does not render", [Problem("$.document", reason)])
    return base64.b64decode(body["pdf"]), body["filename"]
