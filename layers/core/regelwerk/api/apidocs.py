"""The API's description: one OpenAPI document for every route, and Swagger UI to read it.

The admin routes describe themselves (Powertools builds their part from the routes' declared
parameters and bodies). The routes other functions serve (the ingest of orders, invoices and
platform webhooks, the portal, health, the console) are added here, their bodies typed from the
same pydantic models that read them, with the one error body every route answers and the ways
each route is authenticated. ``/v1/docs`` is Swagger UI, vendored (``docs_assets/``, named by
their sha384 for subresource integrity) under a CSP that allows no inline script.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

ASSETS = Path(__file__).resolve().parent / "docs_assets"
_KINDS = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# Swagger UI styles its elements inline (style attributes), so styles may be inline; scripts may not
DOCS_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

ERROR = {
    "type": "object",
    "description": "Every refusal: what went wrong, and for bad input each field with its reason. (API Gateway's "
    "own refusal of a path it has no route for carries the message only.)",
    "required": ["message"],
    "properties": {
        "error": {"type": "string", "examples": ["validation_failed"]},
        "message": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "reason"],
                "properties": {
                    "path": {"type": "string", "examples": ["$.order.line_items[1].quantity"]},
                    "reason": {"type": "string", "examples": ["quantity must be greater than 0"]},
                },
            },
        },
    },
}
INGESTED = {
    "type": "object",
    "description": "What the event did: its run, the trigger events, the rules that fired, the actions queued.",
    "required": ["run_id"],
    "properties": {
        "event_id": {"type": "string"},
        "run_id": {"type": "string"},
        "events": {"type": "array", "items": {"type": "string"}},
        "rules_fired": {"type": "array", "items": {"type": "string"}},
        "queued": {"type": "integer"},
        "duplicate": {"type": "boolean", "description": "the same event again: nothing happened twice"},
        "note": {"type": "string"},
    },
}
SECURITY_SCHEMES = {
    "ingestKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "The shop's ingest key (`regelwerk keys create`).",
    },
    "adminKey": {"type": "http", "scheme": "bearer", "description": "The shop's admin key."},
    "person": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A console user's Cognito access token; a viewer may only read.",
    },
    "shopifySignature": {"type": "apiKey", "in": "header", "name": "X-Shopify-Hmac-Sha256"},
    "wooSignature": {"type": "apiKey", "in": "header", "name": "X-WC-Webhook-Signature"},
    "shopwareSignature": {"type": "apiKey", "in": "header", "name": "shopware-shop-signature"},
    "stripeSignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"},
}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its nested models moved to the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _answers(ok: dict[str, Any], ok_status: str = "202") -> dict[str, Any]:
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        ok_status: ok,
        "200": {"description": "a duplicate (the same event again): nothing happened twice"},
        "400": err | {"description": "not JSON, or a broken paging token"},
        "401": err | {"description": "no key, a wrong key or a wrong signature (nothing was read)"},
        "404": err | {"description": "no such shop or route"},
        "413": err | {"description": "the body is over 256 KB"},
        "422": err | {"description": "the body is not what the route reads: each field named; nothing was written"},
    }


def _ingest_paths(components: dict[str, Any]) -> dict[str, Any]:
    # the ingest package loads only when the document is asked for, not at the admin function's cold start
    from ..ingest.adapters.canonical import OrderEvent
    from ..ingest.invoices import InvoiceEvent

    ingested = {
        "description": "accepted and run through the shop's rules",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ingested"}}},
    }
    shop = {"name": "shop", "in": "path", "required": True, "schema": {"type": "string"}}
    key = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
    order_body = {"required": True, "content": {"application/json": {"schema": _schema(OrderEvent, components)}}}
    invoice_body = {"required": True, "content": {"application/json": {"schema": _schema(InvoiceEvent, components)}}}
    platform = {
        "name": "platform",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["regelwerk", "shopify", "woocommerce", "shopware", "billbee"]},
        "description": "regelwerk: the canonical event (docs/events.md); the others: the platform's own webhook body",
    }
    return {
        "/v1/shops/{shop}/events/{platform}": {
            "post": {
                "summary": "An order event: the canonical order, or a platform's own order webhook",
                "tags": ["Ingest"],
                "parameters": [shop, platform, key],
                "requestBody": order_body,
                "responses": _answers(ingested),
                "security": [
                    {"ingestKey": []},
                    {"shopifySignature": []},
                    {"wooSignature": []},
                    {"shopwareSignature": []},
                ],
            }
        },
        "/v1/shops/{shop}/invoices/events": {
            "post": {
                "summary": "An invoice event: new or changed (fires invoice.sent, invoice.paid)",
                "tags": ["Ingest"],
                "parameters": [shop, key],
                "requestBody": invoice_body,
                "responses": _answers(ingested),
                "security": [{"ingestKey": []}],
            }
        },
        "/v1/shops/{shop}/events/stripe": {
            "post": {
                "summary": "A Stripe event (invoices, refunds, subscriptions), signed with Stripe-Signature",
                "tags": ["Ingest"],
                "parameters": [shop],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": _answers(ingested)
                | {"200": {"description": "a duplicate, or an event type Regelwerk does not use (ignored)"}},
                "security": [{"stripeSignature": []}],
            }
        },
    }


def _other_paths() -> dict[str, Any]:
    html = {"content": {"text/html": {"schema": {"type": "string"}}}}
    return {
        "/v1/health": {
            "get": {
                "summary": "Is the API up (no key)",
                "tags": ["Health"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "up",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"status": {"type": "string"}, "version": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        },
        "/v1/portal/{token}": {
            "get": {
                "summary": "A customer's own page: their orders and documents (the signed link is the key)",
                "tags": ["Portal"],
                "security": [],
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": html | {"description": "the page"}, "404": {"description": "no such link"}},
            }
        },
        "/console": {
            "get": {
                "summary": "The console: pages for shop owners and their staff (sign-in with a console user)",
                "tags": ["Console"],
                "security": [],
                "responses": {"200": html | {"description": "a page"}, "303": {"description": "to the sign-in"}},
            }
        },
        "/v1/docs": {
            "get": {
                "summary": "This document, read with Swagger UI",
                "tags": ["Health"],
                "security": [],
                "responses": {"200": html | {"description": "the page"}},
            }
        },
    }


def openapi_document(admin: dict[str, Any]) -> dict[str, Any]:
    """The whole API: the admin routes as Powertools describes them, and every other function's routes."""
    doc = dict(admin)
    components = dict(doc.get("components") or {})
    schemas = dict(components.get("schemas") or {})
    schemas.update({"Error": ERROR, "Ingested": INGESTED})
    paths = dict(doc.get("paths") or {})
    for path, operations in paths.items():
        for operation in operations.values():
            if not path.startswith("/v1/shops/"):  # openapi.json and the docs page's files
                operation.setdefault("tags", ["Health"])
                operation.setdefault("security", [])
            if path.startswith("/v1/shops/"):
                operation.setdefault("security", [{"adminKey": []}, {"person": []}])
                operation.setdefault("tags", ["Admin"])
                operation.setdefault("responses", {}).setdefault(
                    "4XX",
                    {
                        "description": "refused: the Error body",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    paths.update(_ingest_paths(schemas))
    paths.update(_other_paths())
    doc["paths"] = dict(sorted(paths.items()))
    doc["components"] = components | {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES}
    doc["info"] = (doc.get("info") or {}) | {
        "title": "Regelwerk API",
        "description": "Shops post their events; rules decide; actions go out. Every route, its body and its answers.",
    }
    return doc


@cache
def asset_hash(name: str) -> str:
    return base64.b64encode(hashlib.sha384((ASSETS / name).read_bytes()).digest()).decode()


def docs_page(openapi_url: str, asset_url: str) -> Response:
    """Swagger UI's page: its vendored files named with their sha384, and our own starter (no inline script)."""
    tags = "".join(
        f'<script src="{escape(asset_url)}/{name}" integrity="sha384-{asset_hash(name)}"></script>'
        for name in ("swagger-ui-bundle.js", "init.js")
    )
    css_hash = asset_hash("swagger-ui.css")
    css = f'<link rel="stylesheet" href="{escape(asset_url)}/swagger-ui.css" integrity="sha384-{css_hash}">'
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Regelwerk API</title>"
        f"{css}</head><body data-openapi='{escape(openapi_url)}'><div id='swagger-ui'></div>{tags}</body></html>"
    )
    return Response(200, content_types.TEXT_HTML, page, headers=DOCS_HEADERS)


def docs_asset(name: str) -> Response:
    """One vendored file of the docs page; anything else is 404."""
    path = (ASSETS / name).resolve()
    if path.parent != ASSETS.resolve() or path.suffix not in _KINDS or not path.is_file():
        return Response(404, content_types.TEXT_PLAIN, "not found", headers=DOCS_HEADERS)
    headers = DOCS_HEADERS | {"Cache-Control": "public, max-age=86400"}
    return Response(200, _KINDS[path.suffix], path.read_text(), headers=headers)
