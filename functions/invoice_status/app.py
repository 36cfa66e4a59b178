"""invoice-status: canonical invoice events (POST /v1/shops/{shop}/invoices/events) and Stripe's
invoice and subscription webhooks (POST /v1/shops/{shop}/events/stripe)."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.api.responses import refuse_with_json
from regelwerk.ingest import receive as api
from regelwerk.observability import logger, metrics

app = APIGatewayRestResolver()
refuse_with_json(app)


@app.post("/v1/shops/<shop>/invoices/events")
def receive(shop: str) -> Response:
    event = app.current_event
    raw = api.raw_body(event.body, event.is_base64_encoded)
    result = api.receive_invoice_event(shop, dict(event.headers or {}), raw)
    metrics.add_metric(name="InvoiceEventsReceived", unit="Count", value=1)
    return Response(
        status_code=200 if result.duplicate else 202, content_type=content_types.APPLICATION_JSON, body=result.as_dict()
    )


@app.post("/v1/shops/<shop>/events/stripe")
def receive_stripe(shop: str) -> Response:
    event = app.current_event
    raw = api.raw_body(event.body, event.is_base64_encoded)  # the exact bytes: the signature covers them
    result = api.receive_stripe_event(shop, dict(event.headers or {}), raw)
    metrics.add_metric(name="StripeEventsReceived", unit="Count", value=1)
    return Response(status_code=result.status_code, content_type=content_types.APPLICATION_JSON, body=result.as_dict())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
