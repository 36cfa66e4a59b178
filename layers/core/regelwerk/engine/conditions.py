"""Conditions: the ``when`` tree of a rule, compiled once into plain Python closures.

A condition document nests ``all`` / ``any`` / ``not``; a leaf is ``{field, op, value}``.
``compile_condition`` checks the document (every problem named by its JSON path) and
returns a ``Condition`` with two ways to run it:

- ``matches(ctx)``: the fast path, short-circuiting, no allocation per leaf;
- ``explain(ctx)``: every leaf with the actual value it saw and its result, for the run log.

No user string is ever evaluated as code: operators are looked up in a fixed table and
values are parsed into Python values at compile time.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from ..errors import InvalidInput, Problem
from .fields import kind_of

Ctx = dict[str, Any]
Getter = Callable[[Ctx], Any]
Test = Callable[[Ctx], bool]

OPERATORS = (
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "matches",
    "exists",
    "not_exists",
    "changed",
    "changed_to",
)
_NO_VALUE = {"exists", "not_exists", "changed"}
_ORDERED = {"integer", "decimal", "money", "datetime"}
_MAX_REGEX = 200
_MAX_SUBJECT = 2000
_MAX_LIST = 1000
_MAX_NODES = 200
_MAX_DEPTH = 10
_MISSING = object()


class _Bad(ValueError):
    pass


# ---------------------------------------------------------------- reading values


def _getter(parts: tuple[str, ...], kind: str) -> Getter:
    """A closure that walks the context along ``parts`` and reads the leaf as its kind."""
    convert = _READERS.get(kind)
    if len(parts) == 2:
        a, b = parts

        def get2(ctx: Ctx) -> Any:
            node = ctx.get(a)
            value = node.get(b) if node.__class__ is dict else None
            return value if value is None or convert is None else convert(value)

        return get2
    if len(parts) == 3:
        a, b, c = parts

        def get3(ctx: Ctx) -> Any:
            node = ctx.get(a)
            node = node.get(b) if node.__class__ is dict else None
            value = node.get(c) if node.__class__ is dict else None
            return value if value is None or convert is None else convert(value)

        return get3

    def getn(ctx: Ctx) -> Any:
        node: Any = ctx
        for part in parts:
            if node.__class__ is not dict:
                return None
            node = node.get(part)
        return node if node is None or convert is None else convert(node)

    return getn


def _read_money(value: Any) -> Decimal | None:
    if isinstance(value, dict):
        return Decimal(value["amount"])
    return Decimal(str(value))


def _read_datetime(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _read_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


_READERS: dict[str, Callable[[Any], Any]] = {
    "money": _read_money,
    "datetime": _read_datetime,
    "decimal": _read_decimal,
}


def _parse_value(kind: str, value: Any) -> Any:
    """A condition's value, read once at compile time as the field's kind."""
    if kind in ("money", "decimal"):
        if isinstance(value, bool) or (isinstance(value, float) and not (math.isfinite(value) and value == int(value))):
            raise _Bad('amounts must be given as strings or whole numbers, e.g. "99.90"')
        if isinstance(value, dict):
            value = value.get("amount")
        try:
            number = Decimal(str(value).split()[0])
        except (InvalidOperation, IndexError) as exc:
            raise _Bad(f"{value!r} is not a number") from exc
        if not number.is_finite():
            raise _Bad(f"{value!r} is not a finite number")
        return number
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _Bad(f"{value!r} is not a whole number")
        try:
            return int(value)
        except ValueError as exc:
            raise _Bad(f"{value!r} is not a whole number") from exc
    if kind == "datetime":
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise _Bad(f"{value!r} is not an ISO 8601 date-time") from exc
        if parsed.tzinfo is None:
            raise _Bad("date-times need a time zone offset, e.g. 2026-11-01T00:00:00+01:00")
        return parsed
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _Bad("must be true or false")
        return value
    if kind in ("string", "list"):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _Bad("must be a string")
        return str(value)
    return value


# ---------------------------------------------------------------- operators


def _regex(pattern: Any) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise _Bad("matches needs a regular expression as a string")
    if len(pattern) > _MAX_REGEX:
        raise _Bad(f"regular expression longer than {_MAX_REGEX} characters")
    try:
        compiled = re.compile(pattern)
        parsed = re._parser.parse(pattern)  # type: ignore[attr-defined]
    except re.error as exc:
        raise _Bad(f"invalid regular expression: {exc}") from exc
    # Python's re has no time limit: refuse the shapes that backtrack catastrophically (a repeated
    # group that itself repeats or branches, back-references), and cap the text a pattern runs over.
    if _backtracks(parsed, inside_repeat=False):
        raise _Bad("nested quantifiers, repeated alternatives and back-references are not allowed in matches")
    return compiled


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _backtracks(items: Any, inside_repeat: bool) -> bool:
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return True
        if name in _REPEATS:
            _lo, hi, sub = arg
            if inside_repeat and hi > 1:
                return True
            if _backtracks(sub, inside_repeat or hi > 1):
                return True
        elif name == "BRANCH":
            if inside_repeat or any(_backtracks(b, inside_repeat) for b in arg[1]):
                return True
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            if _backtracks(arg[-1] if name == "SUBPATTERN" else arg, inside_repeat):
                return True
        elif name in ("ASSERT", "ASSERT_NOT") and _backtracks(arg[1], inside_repeat):
            return True
    return False


def _leaf_test(op: str, kind: str, get: Getter, raw: Any, previous: Getter | None) -> Test:
    """Build the predicate for one leaf. Missing values make every test false except not_exists/ne."""
    if op == "exists":
        return lambda ctx: get(ctx) is not None
    if op == "not_exists":
        return lambda ctx: get(ctx) is None
    if op in ("changed", "changed_to"):
        if previous is None:
            raise _Bad(f"{op} works on order fields, which have a previous value")
        if op == "changed":
            return lambda ctx: ctx.get("previous") is not None and get(ctx) != previous(ctx)
        target = _parse_value(kind, raw)
        return lambda ctx: ctx.get("previous") is not None and get(ctx) == target and previous(ctx) != target
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise _Bad("between needs a list of two values [low, high]")
        if kind not in _ORDERED:
            raise _Bad(f"between does not apply to a {kind} field")
        lo, hi = (_parse_value(kind, v) for v in raw)
        if lo > hi:
            raise _Bad("between: the low value is greater than the high value")

        def between(ctx: Ctx) -> bool:
            v = get(ctx)
            return v is not None and lo <= v <= hi

        return between
    if op in ("in", "not_in"):
        if not isinstance(raw, list) or not raw:
            raise _Bad(f"{op} needs a non-empty list of values")
        if len(raw) > _MAX_LIST:
            raise _Bad(f"{op} allows at most {_MAX_LIST} values")
        if kind in ("list", "any", "boolean"):
            raise _Bad(f"{op} does not apply to a {kind} field (use contains for lists)")
        members = frozenset(_parse_value(kind, v) for v in raw)
        if op == "in":
            return lambda ctx: get(ctx) in members
        return lambda ctx: (v := get(ctx)) is not None and v not in members
    if op in ("contains", "not_contains"):
        if kind not in ("string", "list", "any"):
            raise _Bad(f"{op} applies to text and list fields, not to a {kind} field")
        needle = _parse_value("string", raw)

        def contains(ctx: Ctx) -> bool:
            v = get(ctx)
            return v is not None and needle in v

        if op == "contains":
            return contains
        return lambda ctx: (v := get(ctx)) is not None and needle not in v
    if op in ("starts_with", "ends_with", "matches"):
        if kind not in ("string", "any"):
            raise _Bad(f"{op} applies to text fields, not to a {kind} field")
        if op == "matches":
            search = _regex(raw).search

            def matches(ctx: Ctx) -> bool:
                v = get(ctx)
                return isinstance(v, str) and search(v[:_MAX_SUBJECT]) is not None

            return matches
        text = _parse_value("string", raw)
        if op == "starts_with":
            return lambda ctx: isinstance(v := get(ctx), str) and v.startswith(text)
        return lambda ctx: isinstance(v := get(ctx), str) and v.endswith(text)
    # eq, ne, gt, gte, lt, lte
    if kind == "list":
        raise _Bad(f"{op} does not apply to a list field (use contains)")
    target = _parse_value(kind, raw)
    if op == "eq":
        return lambda ctx: get(ctx) == target
    if op == "ne":
        return lambda ctx: get(ctx) != target
    if kind not in _ORDERED:
        raise _Bad(f"{op} does not apply to a {kind} field")
    if op == "gt":
        return lambda ctx: (v := get(ctx)) is not None and v > target
    if op == "gte":
        return lambda ctx: (v := get(ctx)) is not None and v >= target
    if op == "lt":
        return lambda ctx: (v := get(ctx)) is not None and v < target
    return lambda ctx: (v := get(ctx)) is not None and v <= target


# ---------------------------------------------------------------- the tree


class _Node:
    __slots__ = ("children", "field", "get", "kind", "op", "test", "value")

    def __init__(self, kind: str, test: Test, children: list[_Node] | None = None, **leaf: Any):
        self.kind = kind
        self.test = test
        self.children = children or []
        self.field = leaf.get("field")
        self.op = leaf.get("op")
        self.value = _jsonable(leaf.get("value"))  # converted once, at compile time
        self.get: Getter | None = leaf.get("get")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    return value


SHOWN_ITEMS = 20  # a run log shows the first items of a long list (order.skus of 1,000 lines) ...
SHOWN_CHARS = 500  # ... and the start of a long text: enough to see why, small enough for the run item


def _shown(value: Any) -> Any:
    """A condition's actual value as the run log keeps it: long lists and texts cut, saying so (what
    is short, nearly everything, is kept as it is, without a copy)."""
    if isinstance(value, str):
        return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + f"... ({len(value)} characters)"
    if isinstance(value, list) and len(value) > SHOWN_ITEMS:
        return [_shown(v) for v in value[:SHOWN_ITEMS]] + [f"... and {len(value) - SHOWN_ITEMS} more"]
    if isinstance(value, dict) and len(value) > SHOWN_ITEMS:
        return f"(an object with {len(value)} keys)"
    return value


class Condition:
    """A compiled ``when`` tree."""

    __slots__ = ("_root", "matches", "source")

    def __init__(self, root: _Node | None, source: Any):
        self._root = root
        self.source = source
        self.matches: Test = root.test if root else (lambda ctx: True)

    def explain(self, ctx: Ctx) -> dict[str, Any] | None:
        """Every condition with the value it saw and its result (no short-circuit, so all are shown)."""
        return None if self._root is None else self._explain(self._root, ctx)

    def _explain(self, node: _Node, ctx: Ctx) -> dict[str, Any]:
        if node.kind == "leaf":
            assert node.get is not None  # every leaf is made with its getter (_compile_leaf)
            return {
                "field": node.field,
                "op": node.op,
                "value": node.value,
                "actual": _shown(_jsonable(node.get(ctx))),
                "result": node.test(ctx),
            }
        parts = [self._explain(c, ctx) for c in node.children]
        if node.kind == "all":
            result = all(p["result"] for p in parts)
        elif node.kind == "any":
            result = any(p["result"] for p in parts)
        else:
            result = not parts[0]["result"]
        return {node.kind: parts, "result": result}


def _all(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda ctx: a(ctx) and b(ctx)
    if len(tests) == 3:
        a, b, c = tests
        return lambda ctx: a(ctx) and b(ctx) and c(ctx)
    tup = tuple(tests)

    def all_of(ctx: Ctx) -> bool:
        for t in tup:
            if not t(ctx):
                return False
        return True

    return all_of


def _any(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda ctx: a(ctx) or b(ctx)
    tup = tuple(tests)

    def any_of(ctx: Ctx) -> bool:
        for t in tup:
            if t(ctx):
                return True
        return False

    return any_of


def compile_condition(source: Any, path: str = "$.when") -> Condition:
    """Check and compile a ``when`` document. Raises InvalidInput naming every problem by path."""
    problems: list[Problem] = []
    count = [0]
    root = None if source is None else _compile(source, path, problems, 0, count)
    if problems:
        raise InvalidInput("invalid condition", problems)
    return Condition(root, source)


def _compile(node: Any, path: str, problems: list[Problem], depth: int, count: list[int]) -> _Node | None:
    count[0] += 1
    if count[0] > _MAX_NODES:
        if count[0] == _MAX_NODES + 1:
            problems.append(Problem(path, f"a rule may have at most {_MAX_NODES} conditions"))
        return None
    if depth > _MAX_DEPTH:
        problems.append(Problem(path, f"conditions nest at most {_MAX_DEPTH} levels deep"))
        return None
    if not isinstance(node, dict):
        problems.append(
            Problem(path, "must be an object: {all: [...]}, {any: [...]}, {not: ...} or {field, op, value}")
        )
        return None
    groups = [k for k in ("all", "any", "not") if k in node]
    if groups:
        if len(node) != 1:
            extra = sorted(set(node) - {groups[0]})
            problems.append(Problem(f"{path}.{extra[0]}", f"unexpected next to '{groups[0]}'"))
            return None
        key = groups[0]
        if key == "not":
            child = _compile(node["not"], f"{path}.not", problems, depth + 1, count)
            if child is None:
                return None
            inner = child.test
            return _Node("not", lambda ctx: not inner(ctx), [child])
        items = node[key]
        if not isinstance(items, list) or not items:
            problems.append(Problem(f"{path}.{key}", "must be a non-empty list of conditions"))
            return None
        children = [_compile(c, f"{path}.{key}[{i}]", problems, depth + 1, count) for i, c in enumerate(items)]
        if any(c is None for c in children):
            return None
        tests = [c.test for c in children]  # type: ignore[union-attr]
        return _Node(key, _all(tests) if key == "all" else _any(tests), children)  # type: ignore[arg-type]
    return _compile_leaf(node, path, problems)


def _compile_leaf(node: dict[str, Any], path: str, problems: list[Problem]) -> _Node | None:
    unknown = sorted(set(node) - {"field", "op", "value"})
    if unknown:
        problems.append(Problem(f"{path}.{unknown[0]}", "unknown key (a condition has field, op and value)"))
        return None
    field, op = node.get("field"), node.get("op")
    if not isinstance(field, str) or not field:
        problems.append(Problem(f"{path}.field", "required: a field path such as order.total"))
        return None
    kind = kind_of(field)
    if kind is None:
        problems.append(Problem(f"{path}.field", f"unknown field {field!r}"))
        return None
    if op not in OPERATORS:
        problems.append(Problem(f"{path}.op", f"unknown operator {op!r}; one of: {', '.join(OPERATORS)}"))
        return None
    if op in _NO_VALUE:
        if "value" in node:
            problems.append(Problem(f"{path}.value", f"{op} takes no value"))
            return None
    elif "value" not in node:
        problems.append(Problem(f"{path}.value", f"{op} needs a value"))
        return None
    parts = tuple(field.split("."))
    get = _getter(parts, kind)
    if op in ("exists", "not_exists"):
        get = _getter(parts, "any")  # presence needs no parsing of the value
    previous = _getter(("previous", *parts), kind) if parts[0] == "order" else None
    try:
        test = _leaf_test(op, kind, get, node.get("value"), previous)
    except _Bad as exc:
        problems.append(Problem(f"{path}.value" if "value" in node else f"{path}.op", str(exc)))
        return None
    # the common leaves, checked above, run as one closure that walks the context itself
    test = _fused(op, kind, parts, node.get("value")) or test
    wanted = _currency_of(node.get("value")) if kind == "money" and op not in _NO_VALUE else None
    if wanted:
        test = _same_currency(test, _getter(parts, "any"), wanted, op == "ne")
    return _Node("leaf", test, field=field, op=op, value=node.get("value"), get=get)


def _currency_of(value: Any) -> str | None:
    """The currency a money condition names (``{"amount": "50", "currency": "EUR"}`` or ``"50 EUR"``)."""
    if isinstance(value, list):
        found = {_currency_of(v) for v in value} - {None}
        return found.pop() if len(found) == 1 else None
    if isinstance(value, dict):
        currency = value.get("currency")
        return currency if isinstance(currency, str) and currency else None
    if isinstance(value, str) and len(value.split()) == 2:
        return value.split()[1].upper()
    return None


def _same_currency(test: Test, raw: Callable[[Any], Any], currency: str, unequal: bool) -> Test:
    """Amounts in two currencies are not compared: 60 GBP is not "over 50 EUR" (nor equal to it)."""

    def guarded(ctx: Any) -> bool:
        actual = raw(ctx)
        if isinstance(actual, dict) and actual.get("currency") not in (None, currency):
            return unequal
        return test(ctx)

    return guarded


# ---------------------------------------------------------------- fused leaves (the fast path)

_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.lt,
    "gte": operator.le,
    "lt": operator.gt,
    "lte": operator.ge,
}  # partial(op, target)(v) == op(target, v): "v > target" is "target < v"


def _fused(op: str, kind: str, parts: tuple[str, ...], raw: Any) -> Test | None:
    """One closure per leaf for two- and three-part paths: the dict walk, the reading of the value
    and the comparison in a single Python frame, with the comparison itself in C (operator + partial).
    Same results as the general closures of _leaf_test, which stay the reference (and the unit tests
    run every operator through both paths)."""
    if len(parts) not in (2, 3) or kind == "list":
        return None
    convert = None if op in ("exists", "not_exists") else _READERS.get(kind)
    pred: Callable[[Any], bool] | None
    if op in ("exists", "not_exists"):
        pred, when_missing = None, op == "not_exists"
    elif op in _COMPARE:
        pred, when_missing = partial(_COMPARE[op], _parse_value(kind, raw)), op == "ne"
    elif op == "in":
        pred, when_missing = frozenset(_parse_value(kind, v) for v in raw).__contains__, False
    else:
        return None
    if len(parts) == 2:
        a, b = parts

        def leaf2(ctx: Ctx) -> bool:
            node = ctx.get(a)
            if node.__class__ is not dict:
                return when_missing
            v = node.get(b)
            if v is None:
                return when_missing
            if pred is None:
                return not when_missing
            return pred(v if convert is None else convert(v))

        return leaf2
    a, b, c = parts

    def leaf3(ctx: Ctx) -> bool:
        node = ctx.get(a)
        if node.__class__ is not dict:
            return when_missing
        node = node.get(b)
        if node.__class__ is not dict:
            return when_missing
        v = node.get(c)
        if v is None:
            return when_missing
        if pred is None:
            return not when_missing
        return pred(v if convert is None else convert(v))

    return leaf3
