"""The API's docs page: Swagger UI from vendored files, under a CSP without inline script, reading the
whole openapi.json (every route, typed bodies, the error body, the ways to authenticate)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import screenshot


def test_swagger_ui_loads_the_whole_api_under_its_csp(page: Any, base_url: str) -> None:
    answer = page.goto(f"{base_url}/v1/docs")
    assert answer is not None and answer.status == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "Regelwerk API" in page.inner_text(".swagger-ui .info .title")
    # the ingest, invoice, admin, portal and health routes are all there, grouped by tag
    text = page.inner_text("#swagger-ui")
    for path in ("/v1/shops/{shop}/events/{platform}", "/v1/shops/{shop}/invoices/events", "/v1/shops/{shop}/orders"):
        assert path in text, path
    assert "/v1/portal/{token}" in text and "/v1/health" in text
    # no script was refused (a CSP violation is a console error) and nothing came from another origin
    assert not [e for e in page.errors if "Content Security Policy" in e or "Refused" in e], page.errors
    screenshot(page, "api-docs")
