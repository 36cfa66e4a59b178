"""Schemathesis runs the API's own OpenAPI document against the local stack: a bounded number of generated
requests per operation, with the shop's keys, and no answer may be a 5xx or break the document's schema."""

from __future__ import annotations

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from regelwerk_cli.serve import http_app
from tests.conftest import STACK


@pytest.fixture(scope="module")
def api_keys(stack):
    from regelwerk.store.shops import create_key
    from regelwerk_cli import config_dir
    from tests.conftest import DEMO_SHOP

    stack.reset()
    config_dir.apply(config_dir.read(DEMO_SHOP))
    return {"ingest": create_key("demo", "ingest"), "admin": create_key("demo", "admin")}


@pytest.fixture(scope="module")
def api_schema(api_keys):
    app = http_app(STACK, threading.Lock())
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    return schema


SUPPRESSED = list(HealthCheck)
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance]


def _send(case, api_keys) -> None:  # type: ignore[no-untyped-def]
    if case.path.startswith("/v1/shops/{shop}"):
        case.path_parameters = dict(case.path_parameters or {}) | {"shop": "demo"}
    key = api_keys["ingest"] if "events" in case.path else api_keys["admin"]
    response = case.call(headers={"Authorization": f"Bearer {key}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
    case.validate_response(response, checks=CHECKS)


@pytest.mark.slow
def test_no_generated_request_gets_a_5xx_or_an_answer_outside_the_document(api_schema, api_keys):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def run(case):  # type: ignore[no-untyped-def]
            _send(case, api_keys)

        run()
