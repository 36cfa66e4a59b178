"""The fused fast path of a leaf gives exactly the results of the general closures it replaces."""

from __future__ import annotations

import itertools

import pytest

from regelwerk.engine.conditions import _fused, _getter, _leaf_test
from regelwerk.engine.fields import kind_of

CASES = [
    ("order.total", [100, "149.90", "0"]),
    ("order.status", ["paid", "new"]),
    ("customer.order_count", [1, 2, "3"]),
    ("order.created_at", ["2026-11-23T09:15:00+01:00", "2026-11-23T08:15:00+00:00"]),
    ("order.shipping_address.country", ["DE", "AT"]),
]
CONTEXTS = [
    {},
    {"order": None, "customer": "not a dict"},
    {
        "order": {
            "total": {"amount": "149.90", "currency": "EUR"},
            "status": "paid",
            "shipping_address": None,
            "created_at": "2026-11-23T09:15:00+01:00",
        },
        "customer": {"order_count": 2},
    },
    {
        "order": {
            "total": {"amount": "100", "currency": "EUR"},
            "status": "new",
            "shipping_address": {"country": "DE"},
            "created_at": "2026-11-23T08:15:00+00:00",
        },
        "customer": {"order_count": None},
    },
    {"order": {"total": None, "shipping_address": {"country": None}}, "customer": {}},
]


@pytest.mark.parametrize(("field", "values"), CASES)
@pytest.mark.parametrize("op", ["eq", "ne", "gt", "gte", "lt", "lte", "in", "exists", "not_exists"])
def test_fused_leaf_matches_general_leaf(field, values, op):
    kind = kind_of(field)
    parts = tuple(field.split("."))
    if op in ("gt", "gte", "lt", "lte") and kind == "string":
        pytest.skip("ordering does not apply to text")
    raws = [None] if op in ("exists", "not_exists") else ([values] if op == "in" else values)
    for raw, ctx in itertools.product(raws, CONTEXTS):
        get = _getter(parts, "any" if op in ("exists", "not_exists") else kind)
        general = _leaf_test(op, kind, get, raw, None)
        fused = _fused(op, kind, parts, raw)
        assert fused is not None
        assert fused(ctx) == general(ctx), (op, field, raw, ctx)
