"""admin: shop settings, rules, templates, runs, tasks, dry runs, simulations, customers, orders and invoices
(admin-scope key); the API's OpenAPI document and its docs page (no key)."""

import json

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from regelwerk.api import apidocs
from regelwerk.api.admin import customers, dryruns, invoices, keys, orders, rules, runs, shop, tasks, templates
from regelwerk.api.admin.auth import admin_shop, require_admin
from regelwerk.api.responses import refusal_event, refuse_with_json
from regelwerk.errors import RegelwerkError
from regelwerk.observability import logger, metrics

app = APIGatewayRestResolver(enable_validation=True)
refuse_with_json(app)
app.use(middlewares=[require_admin])
for module in (shop, keys, rules, dryruns, templates, runs, tasks, customers, orders, invoices):
    app.include_router(module.router)


@app.get("/v1/openapi.json", summary="This API's OpenAPI document: every route, its body and its answers")
def openapi():
    admin = json.loads(app.get_openapi_json_schema(title="Regelwerk API", version="1"))
    return Response(200, content_types.APPLICATION_JSON, apidocs.openapi_document(admin))


@app.get("/v1/docs", summary="The API's description, read with Swagger UI (vendored)")
def docs():
    base = _stage_base(app.current_event)
    return apidocs.docs_page(f"{base}/v1/openapi.json", f"{base}/v1/docs")


@app.get("/v1/docs/<name>", summary="A file of the docs page")
def docs_file(name: str):
    return apidocs.docs_asset(name)


def _stage_base(event) -> str:  # type: ignore[no-untyped-def]
    """ "/<stage>" on API Gateway's own domain (its URLs carry the stage), "" locally or on a custom domain."""
    host = (event.headers or {}).get("Host") or (event.headers or {}).get("host") or ""
    stage = event.request_context.stage if event.request_context else ""
    return f"/{stage}" if host.endswith(".amazonaws.com") and stage else ""


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    # the request body failed the route's declared type (e.g. not a JSON object): same answer shape as ours
    problems = [
        {"path": "$" + "".join(f".{p}" for p in e.get("loc", ())[1:] if p != "body"), "reason": e.get("msg", "invalid")}
        for e in error.errors()
    ]
    return Response(
        422,
        content_types.APPLICATION_JSON,
        {"error": "validation_failed", "message": "invalid request body", "problems": problems},
    )


@app.not_found
def not_found(_: Exception) -> Response:
    return Response(404, content_types.APPLICATION_JSON, {"error": "not_found", "message": "no such route"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:  # the key first: before routing, so validation errors never answer a stranger
        shop = admin_shop(event)
    except RegelwerkError as error:
        return refusal_event(error)
    if shop is not None:
        app.append_context(shop=shop)
    return app.resolve(event, context)
