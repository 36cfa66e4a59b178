"""Shop templates: Jinja2 in a sandbox, with limits, money and date filters in the customer's locale.

A template has a variant per language (``de``, ``en``...). The variant is chosen from the
customer's language, then the order's, then the shop's default; a missing variant falls back
along that chain. E-mail templates have ``subject``, ``html`` and ``text``; SMS templates ``text``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from ..errors import ActionFailed, InvalidInput, Problem
from .sms import gsm7_amount

if TYPE_CHECKING:
    from jinja2 import TemplateSyntaxError

MAX_SOURCE = 64 * 1024
MAX_OUTPUT = 512 * 1024
RENDER_SECONDS = 2.0
PARTS = {"email": ("subject", "html", "text"), "sms": ("text",)}


class TemplateFailed(ActionFailed):
    pass


def _finalize(value: Any) -> Any:
    # a missing value prints as nothing, never as "None" in a customer's e-mail
    return "" if value is None else value


MAX_RANGE = 10_000
MAX_REPEAT_OUTPUT = 100_000


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise SecurityError(f"range() of {len(r)} items is over the limit of {MAX_RANGE}")
    return r


class _Env(ImmutableSandboxedEnvironment):
    """The sandbox, with arithmetic that could exhaust memory or time refused before it runs."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 100:
            raise SecurityError("exponents over 100 are not allowed in templates")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_REPEAT_OUTPUT:
                    raise SecurityError(f"repeating text to more than {MAX_REPEAT_OUTPUT} characters is not allowed")
        return super().call_binop(context, operator, left, right)


def _make_env(autoescape: bool) -> _Env:
    env = _Env(
        autoescape=autoescape, undefined=StrictUndefined, finalize=_finalize, trim_blocks=True, lstrip_blocks=True
    )
    env.globals["range"] = _range
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


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Stop a render that runs too long. SIGALRM works in the main thread (as in Lambda); elsewhere only
    the size limits and MAX_RANGE apply."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _stop(signum: int, frame: Any) -> None:
        raise TemplateFailed(f"template rendering took longer than {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
    with _time_limit(RENDER_SECONDS):
        for part in parts:
            source = variant.get(part)
            if source is None:
                continue
            if len(source.encode()) > MAX_SOURCE:
                raise TemplateFailed(f"template part '{part}' is larger than {MAX_SOURCE} bytes")
            env = _html_env if part == "html" else _text_env
            try:
                text = env.from_string(source).render(ctx)
            except SecurityError as exc:
                raise TemplateFailed(f"template part '{part}' was blocked by the sandbox: {exc}") from exc
            except TemplateError as exc:
                raise TemplateFailed(f"template part '{part}' failed to render: {exc}") from exc
            except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
                raise TemplateFailed(f"template part '{part}' failed to render: {exc}") from exc
            if len(text) > MAX_OUTPUT:
                raise TemplateFailed(f"template part '{part}' rendered more than {MAX_OUTPUT} characters")
            out[part] = text.strip() if part == "subject" else text
    return out
