"""portal: the customer portal page behind a signed, expiring link (GET /v1/portal/{token})."""

from html import escape

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.api import portal
from regelwerk.api.responses import log_refusal
from regelwerk.errors import RegelwerkError
from regelwerk.observability import logger, metrics

app = APIGatewayRestResolver()
# the token is in the URL: keep it out of caches, referrers and search engines
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
}


@app.get("/v1/portal/<token>")
def show(token: str) -> Response:
    return Response(200, content_types.TEXT_HTML, portal.page(token), headers=HEADERS)


@app.exception_handler(RegelwerkError)
def refuse(error: RegelwerkError) -> Response:
    log_refusal(error, "portal request")
    body = f"<!doctype html><meta charset='utf-8'><title>{error.status}</title><p>{escape(error.message)}</p>"
    return Response(error.status, content_types.TEXT_HTML, body, headers=HEADERS)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
