"""The vendored Swagger UI is the pinned release, unchanged (swagger-ui-dist 5.18.2 from npm)."""

from __future__ import annotations

import pytest

from regelwerk.api import apidocs

PINNED = {
    "swagger-ui-bundle.js": "NXtFPpN61oWCuN4D42K6Zd5Rt2+uxeIT36R7kpXBuY9tLnZorzrJ4ykpqwJfgjpZ",
    "swagger-ui.css": "rcbEi6xgdPk0iWkAQzT2F3FeBJXdG+ydrawGlfHAFIZG7wU6aKbQaRewysYpmrlW",
}


@pytest.mark.parametrize("name", PINNED)
def test_the_vendored_file_is_the_pinned_release(name: str) -> None:
    assert apidocs.asset_hash(name) == PINNED[name]
