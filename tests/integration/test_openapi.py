"""openapi.json covers every route the template declares, with typed bodies, the error body and the auth schemes."""

from __future__ import annotations

import json

import yaml

from tests import ROOT


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # CloudFormation tags: not needed here


def template_routes() -> set[tuple[str, str]]:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    routes = set()
    for resource in template["Resources"].values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") == "Api":
                routes.add((event["Properties"]["Path"], event["Properties"]["Method"]))
    return routes


def test_every_route_of_the_template_is_described(stack):
    status, _, body = stack.invoke_http("GET", "/v1/openapi.json")
    assert status == 200
    doc = json.loads(body)
    paths = doc["paths"]
    missing = []
    for path, method in template_routes():
        if "{proxy+}" in path:  # the admin's and the console's catch-alls: their routes are listed one by one
            continue
        if path not in paths or (method != "any" and method not in paths[path]):
            missing.append((path, method))
    assert not missing, missing
    # the catch-all's routes: every admin route is there too
    assert sum(1 for p in paths if p.startswith("/v1/shops/{shop}/")) > 25


def test_bodies_are_typed_from_the_models_and_every_refusal_has_the_error_body(stack):
    doc = json.loads(stack.invoke_http("GET", "/v1/openapi.json")[2])
    schemas = doc["components"]["schemas"]
    order_event = doc["paths"]["/v1/shops/{shop}/events/{platform}"]["post"]
    assert order_event["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderEvent")
    line = schemas["LineItem"]["properties"]
    assert {"quantity", "unit", "unit_price", "total", "discount", "tax", "tax_rate"} <= set(line)
    assert {"error", "message", "problems"} <= set(schemas["Error"]["properties"])
    assert {"ingestKey", "adminKey", "person", "shopifySignature", "stripeSignature"} <= set(
        doc["components"]["securitySchemes"]
    )
    for path, operations in doc["paths"].items():
        if path.startswith("/v1/shops/{shop}") and "events" not in path:
            for name, operation in operations.items():
                assert operation.get("security"), (path, name)


def test_the_docs_page_is_public_and_strict(stack):
    status, headers, page = stack.invoke_http("GET", "/v1/docs")
    assert status == 200
    csp = {k.lower(): v for k, v in (headers or {}).items()}["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert b'integrity="sha384-' in page and b"<script>" not in page  # no inline script
    assert stack.invoke_http("GET", "/v1/docs/../app.py")[0] in (403, 404)
    assert stack.invoke_http("GET", "/v1/docs/README.md")[0] == 404  # only the page's own .js and .css
