"""Shop templates: Jinja2 in a sandbox, with limits, money and date filters in the customer's locale.

A template has a variant per language (``de``, ``en``...). The variant is chosen from the
customer's language, then the order's, then the shop's default; a missing variant falls back
along that chain. E-mail templates have ``subject``, ``html`` and ``text``; SMS templates ``text``.
"""

from __future__ import annotations

import ctypes
import re
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError, pass_environment, pass_eval_context
from jinja2.filters import (
    do_batch,
    do_center,
    do_format,
    do_indent,
    do_join,
    do_replace,
    do_slice,
    do_wordwrap,
)
from jinja2.runtime import Macro, Namespace
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from ..errors import ActionFailed, InvalidInput, Problem
from .sms import gsm7_amount

if TYPE_CHECKING:
    from jinja2 import TemplateSyntaxError

MAX_SOURCE = 64 * 1024
MAX_OUTPUT = 512 * 1024
# a render's time: 150 ms, and 0.2 ms more per line item (a 1,000-line thank-you renders in ~75 ms on a
# busy machine: it gets 350 ms); a runaway template over a usual order stops within 200 ms
RENDER_SECONDS = 0.15
RENDER_SECONDS_PER_LINE = 0.0002
PARTS = {"email": ("subject", "html", "text"), "sms": ("text",)}


class TemplateFailed(ActionFailed):
    pass


def _finalize(value: Any) -> Any:
    # a missing value prints as nothing, never as "None" in a customer's e-mail
    return "" if value is None else value


MAX_RANGE = 10_000  # items of one range()
MAX_RANGE_TOTAL = 100_000  # items of all range() calls of one render
MAX_REPEAT_OUTPUT = 100_000  # characters or items one * or + may make
MAX_WIDTH = 10_000  # a field width, precision, center/ljust/zfill/indent/wordwrap width
MAX_DEPTH = 20  # macros calling macros
MAX_CALLS = 200_000  # calls (filters excepted) of one render: loops that output nothing still end
MAX_SLICES = 10_000  # batch / slice sizes

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBERS = re.compile(r"\d+")


class _Budget(threading.local):
    """What the render on this thread may still spend: time, calls, range items, macro depth."""

    deadline = 0.0
    seconds = 0.0
    calls = 0
    range_items = 0
    depth = 0

    def start(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.calls = self.range_items = self.depth = 0

    def tick(self) -> None:
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise SecurityError(f"the template made more than {MAX_CALLS} calls")
        if self.deadline and time.monotonic() > self.deadline:
            raise SecurityError(f"template rendering took longer than {self.seconds:g}s")


budget = _Budget()


def _limit(size: int, what: str, limit: int = MAX_REPEAT_OUTPUT) -> None:
    if size > limit:
        raise SecurityError(f"{what} would make {size} characters or items; the limit is {limit}")


def _width(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WIDTH:
        raise SecurityError(f"{what} of {value} is over the limit of {MAX_WIDTH}")


def _percent_format_ok(fmt: str) -> None:
    """``'%0300000000d' % 1`` and ``|format``: widths and precisions are checked before Python builds them."""
    for match in _PERCENT_SPEC.finditer(fmt):
        for number in match.groups():
            if number == "*":
                raise SecurityError("'*' widths are not allowed in templates")
            if number is not None:
                _width(int(number), "a format width")


def _brace_format_ok(fmt: str) -> None:
    """``'{:>300000000}'.format(x)``: every field's format spec is checked before Python builds it."""
    for _literal, _field, spec, _conversion in string.Formatter().parse(fmt):
        if spec:
            if "{" in spec:
                raise SecurityError("nested format fields are not allowed in templates")
            for number in _NUMBERS.findall(spec):
                _width(int(number), "a format width")


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise SecurityError(f"range() of {len(r)} items is over the limit of {MAX_RANGE}")
    budget.range_items += len(r)
    if budget.range_items > MAX_RANGE_TOTAL:
        raise SecurityError(f"range() of more than {MAX_RANGE_TOTAL} items in all is over the limit")
    return r


class _Namespace(Namespace):
    """``namespace()`` whose values cannot grow past the output limit (``ns.s = ns.s ~ ns.s`` in a loop)."""

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, str | list | tuple | dict):
            _limit(len(value), f"namespace value {name!r}", MAX_OUTPUT)
        super().__setitem__(name, value)


# str methods that take a width or can multiply their input, checked before they run
def _str_method_ok(obj: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name in ("center", "ljust", "rjust", "zfill"):
        _width(args[0] if args else kwargs.get("width"), f"{name}()")
    elif name == "expandtabs":
        _width(args[0] if args else kwargs.get("tabsize", 8), "expandtabs()")
        _limit(len(obj) * int(args[0] if args else kwargs.get("tabsize", 8) or 1), "expandtabs()")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = obj.count(args[0]) if args[0] else len(obj) + 1
        _limit(len(obj) + count * len(args[1]), "replace()", MAX_OUTPUT)
    elif name == "join" and args:
        items = list(args[0])
        _limit(sum(len(str(i)) for i in items) + len(obj) * max(len(items) - 1, 0), "join()", MAX_OUTPUT)


class _Env(ImmutableSandboxedEnvironment):
    """The sandbox, with everything that could exhaust memory or time refused before it runs, and a
    budget of time and calls checked as the template runs (on any thread: no signals)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 100:
            raise SecurityError("exponents over 100 are not allowed in templates")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_REPEAT_OUTPUT:
                    raise SecurityError(f"repeating text to more than {MAX_REPEAT_OUTPUT} characters is not allowed")
        if operator == "%" and isinstance(left, str):
            _percent_format_ok(left)
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            _limit(len(left) + len(right), "joining two values", MAX_OUTPUT)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # jinja2's signature
        budget.tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _str_method_ok(owner, getattr(__obj, "__name__", ""), args, kwargs)
        if isinstance(__obj, Macro):
            budget.depth += 1
            try:
                if budget.depth > MAX_DEPTH:
                    raise SecurityError(f"macros nested more than {MAX_DEPTH} deep")
                return super().call(__context, __obj, *args, **kwargs)
            finally:
                budget.depth -= 1
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _brace_format_ok(value.__self__)
        return wrapped


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    if isinstance(value, str):
        _percent_format_ok(value)
    return do_format(value, *args, **kwargs)


def _center_filter(value: Any, width: int = 80) -> str:
    _width(width, "center()")
    return do_center(value, width)


@pass_eval_context
def _replace_filter(eval_ctx: Any, value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    if isinstance(old, str) and isinstance(new, str):
        n = (text.count(old) if old else len(text) + 1) if count is None else min(count, len(text) + 1)
        _limit(len(text) + n * len(new), "replace()", MAX_OUTPUT)
    return do_replace(eval_ctx, value, old, new, count)


def _indent_filter(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    _width(width if isinstance(width, int) else len(width), "indent()")
    lines = str(value).count("\n") + 1
    _limit(len(str(value)) + lines * (width if isinstance(width, int) else len(width)), "indent()", MAX_OUTPUT)
    return do_indent(value, width, first, blank)


@pass_environment
def _wordwrap_filter(environment: Any, s: str, width: int = 79, *args: Any, **kwargs: Any) -> str:
    _width(width, "wordwrap()")
    return do_wordwrap(environment, s, width, *args, **kwargs)


@pass_eval_context
def _join_filter(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    items = list(value)
    _limit(sum(len(str(i)) for i in items) + len(str(d)) * max(len(items) - 1, 0), "join()", MAX_OUTPUT)
    return do_join(eval_ctx, items, d, attribute)


def _batch_filter(value: Any, linecount: int, fill_with: Any = None) -> Any:
    _limit(linecount, "batch()", MAX_SLICES)
    return do_batch(value, linecount, fill_with)


def _slice_filter(value: Any, slices: int, fill_with: Any = None) -> Any:
    _limit(slices, "slice()", MAX_SLICES)
    return do_slice(value, slices, fill_with)


def _make_env(autoescape: bool) -> _Env:
    env = _Env(
        autoescape=autoescape, undefined=StrictUndefined, finalize=_finalize, trim_blocks=True, lstrip_blocks=True
    )
    env.globals["range"] = _range
    env.globals["namespace"] = _Namespace
    env.globals.pop("lipsum", None)  # lipsum(n=10**6) builds megabytes of text
    env.filters.update(
        {
            "format": _format_filter,
            "center": _center_filter,
            "replace": _replace_filter,
            "indent": _indent_filter,
            "wordwrap": _wordwrap_filter,
            "join": _join_filter,
            "batch": _batch_filter,
            "slice": _slice_filter,
        }
    )
    env.filters["money"] = money_filter
    env.filters["date"] = date_filter
    env.filters["datetime"] = datetime_filter
    return env


def money_filter(ctx_value: Any, locale: str | None = None) -> str:
    """{{ order.total | money }} -> '149,90 €' in the customer's locale.

    In an SMS the amount is written in GSM-7 ('149,90 €' with a plain space, '120,00 PLN' for a
    symbol outside the alphabet): Babel's no-break space alone would make the whole SMS UCS-2.
    """
    # Babel's locale data loads when a template formats, not at cold start
    from babel.numbers import format_currency, get_currency_symbol

    if ctx_value is None:
        return ""
    if isinstance(ctx_value, dict):
        amount, currency = Decimal(ctx_value["amount"]), ctx_value["currency"]
    else:
        amount, currency = Decimal(str(ctx_value)), "EUR"
    locale = locale or current_locale.locale
    formatted = format_currency(amount, currency, locale=locale)
    if not current_locale.sms:
        return formatted
    plain = gsm7_amount(formatted, get_currency_symbol(currency, locale), currency)
    return plain if plain is not None else f"{amount} {currency}"


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def date_filter(value: Any, format: str = "medium") -> str:
    """{{ order.created_at | date }} -> '24.11.2026', in the shop's time zone and the customer's locale."""
    from babel.dates import format_date  # Babel's locale data loads when a template formats, not at cold start

    dt = _as_datetime(value)
    return (
        ""
        if dt is None
        else format_date(dt.astimezone(ZoneInfo(current_locale.tz)).date(), format, locale=current_locale.locale)
    )


def datetime_filter(value: Any, format: str = "medium") -> str:
    from babel.dates import format_datetime  # Babel's locale data loads when a template formats, not at cold start

    dt = _as_datetime(value)
    return (
        ""
        if dt is None
        else format_datetime(dt, format, tzinfo=ZoneInfo(current_locale.tz), locale=current_locale.locale)
    )


class _Current(threading.local):
    locale = "en"
    tz = "UTC"
    sms = False  # rendering an SMS: amounts in GSM-7


current_locale = _Current()
_html_env = _make_env(True)
_text_env = _make_env(False)


def check_template(kind: str, variant: dict[str, Any], path: str = "$") -> None:
    """Compile a template variant; InvalidInput names the part and line that do not compile."""
    problems = []
    allowed = PARTS[kind]
    for key in variant:
        if key not in allowed:
            problems.append(Problem(f"{path}.{key}", f"unknown part; a {kind} template has {', '.join(allowed)}"))
    for part in allowed:
        source = variant.get(part)
        if part in ("text",) and not source:
            problems.append(Problem(f"{path}.{part}", "required"))
            continue
        if kind == "email" and part == "subject" and not source:
            problems.append(Problem(f"{path}.subject", "required"))
            continue
        if source is None:
            continue
        if not isinstance(source, str):
            problems.append(Problem(f"{path}.{part}", "must be text"))
            continue
        if len(source.encode()) > MAX_SOURCE:
            problems.append(Problem(f"{path}.{part}", f"longer than {MAX_SOURCE} bytes"))
            continue
        try:
            # compile, not just parse: an unknown filter is refused now, not at every send
            (_html_env if part == "html" else _text_env).compile(source)
        except RecursionError:
            problems.append(Problem(f"{path}.{part}", "does not compile: nested too deeply"))
        except TemplateError as exc:
            # Environment.compile raises only TemplateSyntaxError (or its subclass TemplateAssertionError)
            syntax = cast("TemplateSyntaxError", exc)
            problems.append(Problem(f"{path}.{part}", f"does not compile: {syntax.message} (line {syntax.lineno})"))
    if problems:
        raise InvalidInput("invalid template", problems)


def choose_language(ctx: dict[str, Any], available: Callable[[str], bool]) -> str | None:
    """Customer's language, then the order's, then the shop's default, then English."""
    customer = ctx.get("customer") or {}
    order = ctx.get("order") or {}
    shop = ctx.get("shop") or {}
    for lang in (customer.get("language"), order.get("language"), shop.get("language"), "en"):
        if lang and available(lang.split("-")[0]):
            return lang.split("-")[0]
    return None


class _Overtime(BaseException):
    """Raised into a render that is past its deadline (a BaseException: no template code catches it)."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Stop the code in this block when it runs longer than ``seconds``, on any thread, without signals.

    A watchdog timer raises ``_Overtime`` into this thread (CPython's PyThreadState_SetAsyncExc), which
    interrupts even a template loop that calls and writes nothing (``{% for a in x %}{% for b in x %}
    {% endfor %}{% endfor %}``); a single C call runs to its end, which is why every call that could
    build something large is checked before it runs. The exception can only be set while the block
    runs, and one set but not yet delivered when it ends is cleared.
    """
    thread = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    running = [True]

    def stop() -> None:
        with lock:
            if running[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread, ctypes.py_object(_Overtime))

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    try:
        try:
            timer.start()
            yield
        finally:
            with lock:
                running[0] = False
            timer.cancel()
            ctypes.pythonapi.PyThreadState_SetAsyncExc(thread, None)  # one set just now: never delivered
    except _Overtime:
        raise TemplateFailed(f"template rendering took longer than {seconds:g}s") from None


def _render_part(part: str, source: str, ctx: dict[str, Any]) -> str:
    """One part, rendered piece by piece: the time and the size are checked as it goes, so a loop
    that writes a little each time stops at the limit instead of after it."""
    env = _html_env if part == "html" else _text_env
    pieces: list[str] = []
    size = 0
    try:
        for piece in env.from_string(source).generate(ctx):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateFailed(f"template part '{part}' rendered more than {MAX_OUTPUT} characters")
            if time.monotonic() > budget.deadline:
                raise TemplateFailed(f"template part '{part}' took longer than {budget.seconds:g}s to render")
            pieces.append(piece)
    except SecurityError as exc:
        raise TemplateFailed(f"template part '{part}' was blocked by the sandbox: {exc}") from exc
    except RecursionError as exc:
        raise TemplateFailed(f"template part '{part}' nests too deeply") from exc
    except MemoryError as exc:
        raise TemplateFailed(f"template part '{part}' needs too much memory") from exc
    except TemplateError as exc:
        raise TemplateFailed(f"template part '{part}' failed to render: {exc}") from exc
    except (ValueError, TypeError, KeyError, ArithmeticError, OverflowError) as exc:
        raise TemplateFailed(f"template part '{part}' failed to render: {exc}") from exc
    text = "".join(pieces)
    return text.strip() if part == "subject" else text


def render(
    variant: dict[str, str], ctx: dict[str, Any], *, language: str, parts: tuple[str, ...], sms: bool = False
) -> dict[str, str]:
    """Render the parts of one template variant in the sandbox. Raises TemplateFailed with the reason.

    ``sms``: the text is an SMS, so filters write GSM-7 (see ``money_filter``).
    """
    current_locale.sms = sms
    shop = ctx.get("shop") or {}
    country = ((ctx.get("order") or {}).get("shipping_address") or {}).get("country")
    current_locale.locale = f"{language}_{country}" if country else language
    current_locale.tz = shop.get("time_zone") or "UTC"
    try:
        from babel import Locale  # Babel's locale data loads when a template formats, not at cold start

        Locale.parse(current_locale.locale)
    except Exception:
        current_locale.locale = language
    out = {}
    lines = len((ctx.get("order") or {}).get("line_items") or [])
    seconds = RENDER_SECONDS + RENDER_SECONDS_PER_LINE * lines
    budget.start(seconds)
    try:
        with _deadline(seconds):
            for part in parts:
                source = variant.get(part)
                if source is None:
                    continue
                if len(source.encode()) > MAX_SOURCE:
                    raise TemplateFailed(f"template part '{part}' is larger than {MAX_SOURCE} bytes")
                out[part] = _render_part(part, source, ctx)
    finally:
        budget.deadline = 0.0  # outside a render (previews of other parts, tests) nothing is timed
    return out
