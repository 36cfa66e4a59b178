"""The local stack makes the template's secrets as CloudFormation would: random values, never the text
of the dynamic reference (local portal links could be forged by anyone who read the template)."""

from __future__ import annotations

import os


def test_generated_secrets_are_random_values_not_references(stack):
    for name in ("PORTAL_SECRET", "PAGING_SECRET"):
        value = os.environ[name]
        assert "resolve:" not in value and "{{" not in value, name
        assert len(value) >= 32 and value.isalnum(), name
    assert os.environ["PORTAL_SECRET"] != os.environ["PAGING_SECRET"]
