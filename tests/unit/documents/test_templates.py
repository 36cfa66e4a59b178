"""Templates (Jinja2 sandbox, locale filters, limits) and the SMS helpers (segments, E.164 numbers)."""

from __future__ import annotations

from typing import Any

import pytest

from regelwerk.actions.sms import normalise_number, segments
from regelwerk.documents.templates import (
    MAX_OUTPUT,
    MAX_SOURCE,
    TemplateFailed,
    check_template,
    choose_language,
    render,
)
from regelwerk.errors import ActionFailed, InvalidInput

NBSP = "\u00a0"  # Babel puts a no-break space between amount and currency sign


def make_ctx(country: str | None = "DE", time_zone: str = "Europe/Berlin", **order: Any) -> dict[str, Any]:
    return {
        "shop": {"name": "Kaffee & Co", "time_zone": time_zone, "language": "de"},
        "order": {
            "number": "1001",
            "total": {"amount": "149.90", "currency": "EUR"},
            "subtotal": None,
            "created_at": "2026-11-23T23:30:00+00:00",  # already 24 November in Berlin
            "shipped_at": None,
            "shipping_address": {"country": country} if country else None,
            "line_items": [
                {"name": "Espresso", "quantity": 2, "total": {"amount": "65.00", "currency": "EUR"}},
                {"name": "Tasse", "quantity": 4, "total": {"amount": "80.00", "currency": "EUR"}},
            ],
        }
        | order,
        "customer": {"first_name": "Anna", "phone": None, "language": "de"},
    }


def text(source: str, ctx: dict[str, Any] | None = None, language: str = "de") -> str:
    return render({"text": source}, ctx if ctx is not None else make_ctx(), language=language, parts=("text",))["text"]


def failure(source: str, part: str = "text") -> str:
    with pytest.raises(TemplateFailed) as info:
        render({part: source}, make_ctx(), language="de", parts=(part,))
    return str(info.value)


# ---------------------------------------------------------------- locale filters


def test_money_in_german_for_germany() -> None:
    assert text("{{ order.total | money }}") == f"149,90{NBSP}€"


@pytest.mark.parametrize(
    ("language", "country", "expected"),
    [
        ("en", "US", "€149.90"),
        ("en", "GB", "€149.90"),
        ("de", "CH", f"EUR{NBSP}149.90"),
        ("de", "AT", f"€{NBSP}149,90"),
        ("de", None, f"149,90{NBSP}€"),
        ("de", "US", f"149,90{NBSP}€"),  # no de_US locale: falls back to plain German
    ],
)
def test_money_follows_language_and_shipping_country(language: str, country: str | None, expected: str) -> None:
    assert text("{{ order.total | money }}", make_ctx(country=country), language=language) == expected


def test_money_keeps_the_amounts_currency() -> None:
    ctx = make_ctx(total={"amount": "1500", "currency": "JPY"})
    assert text("{{ order.total | money }}", ctx) == f"1.500{NBSP}¥"


def test_money_of_a_missing_amount_prints_nothing() -> None:
    assert text("[{{ order.subtotal | money }}]") == "[]"


def test_date_in_the_shops_time_zone_and_german_format() -> None:
    # 23:30 UTC on 23 November is 00:30 on 24 November in Berlin
    assert text("{{ order.created_at | date }}") == "24.11.2026"
    assert text("{{ order.created_at | date }}", make_ctx(time_zone="UTC")) == "23.11.2026"


def test_date_formats() -> None:
    assert text("{{ order.created_at | date('long') }}") == "24. November 2026"
    assert text("{{ order.created_at | date('short') }}") == "24.11.26"
    assert text("{{ order.created_at | date }}", language="en", ctx=make_ctx(country="US")) == "Nov 24, 2026"


def test_datetime_in_the_shops_time_zone() -> None:
    assert text("{{ order.created_at | datetime }}") == "24.11.2026, 00:30:00"


def test_date_of_a_missing_value_prints_nothing() -> None:
    assert text("[{{ order.shipped_at | date }}][{{ order.shipped_at | datetime }}]") == "[][]"


def test_a_whole_email_renders_in_german() -> None:
    variant = {
        "subject": "  Danke für Ihre Bestellung {{ order.number }}  ",
        "html": "<p>Hallo {{ customer.first_name }}, {{ order.total | money }}</p>",
        "text": "{% for item in order.line_items %}- {{ item.quantity }} × {{ item.name }}: {{ item.total | money }}\n"
        "{% endfor %}{{ shop.name }}",
    }
    out = render(variant, make_ctx(), language="de", parts=("subject", "html", "text"))
    assert out == {
        "subject": "Danke für Ihre Bestellung 1001",  # the subject is trimmed
        "html": f"<p>Hallo Anna, 149,90{NBSP}€</p>",
        "text": f"- 2 × Espresso: 65,00{NBSP}€\n- 4 × Tasse: 80,00{NBSP}€\nKaffee & Co",  # text: not escaped
    }


def test_only_the_requested_parts_are_rendered() -> None:
    out = render({"subject": "S", "html": "{{ nope }}", "text": "T"}, make_ctx(), language="de", parts=("text",))
    assert out == {"text": "T"}


# ---------------------------------------------------------------- missing values, undefined names


def test_a_null_value_prints_as_empty_not_none() -> None:
    assert text("Telefon: [{{ customer.phone }}]") == "Telefon: []"


def test_an_unknown_variable_fails_instead_of_printing_nothing() -> None:
    assert "failed to render" in failure("Hallo {{ customer.nickname }}")
    assert "'nickname'" in failure("Hallo {{ customer.nickname }}")
    assert "is undefined" in failure("{{ coupon_code }}")


def test_a_default_covers_an_unknown_variable() -> None:
    assert text("{{ coupon_code | default('none') }}") == "none"
    assert text("{{ customer.first_name or 'Kundin' }}") == "Anna"


def test_an_unknown_filter_fails_at_render() -> None:
    assert "No filter named 'mony'" in failure("{{ order.total | mony }}")


def test_a_runtime_error_in_a_template_is_a_template_failure() -> None:
    assert "division by zero" in failure("{{ 1 / 0 }}")


# ---------------------------------------------------------------- escaping


def test_html_part_is_autoescaped_text_part_is_not() -> None:
    ctx = make_ctx()
    ctx["customer"]["first_name"] = "<script>alert('x')</script> & Co"
    out = render(
        {"html": "{{ customer.first_name }}", "text": "{{ customer.first_name }}"},
        ctx,
        language="de",
        parts=("html", "text"),
    )
    assert out["html"] == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"
    assert out["text"] == "<script>alert('x')</script> & Co"


def test_subject_is_not_html_escaped() -> None:
    out = render({"subject": "{{ shop.name }}"}, make_ctx(), language="de", parts=("subject",))
    assert out["subject"] == "Kaffee & Co"


# ---------------------------------------------------------------- sandbox


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ order.__class__ }}",
        "{{ lipsum.__globals__ }}",
    ],
)
@pytest.mark.parametrize("part", ["text", "html"])
def test_the_sandbox_blocks_escapes(payload: str, part: str) -> None:
    message = failure(payload, part)
    assert f"template part '{part}'" in message
    # unsafe, blocked, or not there at all (lipsum is taken out: lipsum(n=10**6) builds megabytes)
    assert "unsafe" in message or "blocked by the sandbox" in message or "'lipsum' is undefined" in message


def test_templates_cannot_change_the_context() -> None:
    ctx = make_ctx()
    message = failure("{{ order.line_items.append(1) }}")
    assert "unsafe" in message or "blocked by the sandbox" in message
    assert len(ctx["order"]["line_items"]) == 2


# ---------------------------------------------------------------- limits


def test_output_size_is_limited() -> None:
    # 10,000 x 60 characters: each step is small, the whole is over the output limit
    source = "{% for i in range(10000) %}{{ 'x' * 60 }}{% endfor %}"
    assert failure(source) == f"template part 'text' rendered more than {MAX_OUTPUT} characters"


def test_repeating_text_into_a_huge_string_is_refused_before_it_is_built() -> None:
    assert "repeating text to more than" in failure("{{ 'x' * 10**9 }}")
    assert "exponents over 100" in failure("{{ 9 ** 999999 }}")


def test_output_just_below_the_limit_renders() -> None:
    source = f"{{% for i in range({MAX_OUTPUT // 64}) %}}{{{{ 'x' * 64 }}}}{{% endfor %}}"
    assert len(text(source)) == MAX_OUTPUT


def test_source_size_is_limited_at_render() -> None:
    assert failure("x" * (MAX_SOURCE + 1)) == f"template part 'text' is larger than {MAX_SOURCE} bytes"


def test_huge_ranges_are_refused() -> None:
    assert "over the limit of 10000" in failure("{% for i in range(1000000) %}{% endfor %}")


def test_ranges_above_ten_thousand_are_refused() -> None:
    assert "over the limit of 10000" in failure("{% for i in range(20000) %}{% endfor %}")


# ---------------------------------------------------------------- check_template (at upload)


def test_a_good_email_template_passes() -> None:
    check_template(
        "email", {"subject": "Bestellung {{ order.number }}", "html": "<p>{{ order.total | money }}</p>", "text": "x"}
    )


def test_a_template_that_does_not_compile_names_the_part_and_line() -> None:
    with pytest.raises(InvalidInput) as info:
        check_template(
            "email",
            {"subject": "ok", "html": "<p>\nHallo\n{{ order.total | money </p>", "text": "ok"},
            path="$.variants.de",
        )
    [problem] = info.value.problems
    assert problem.path == "$.variants.de.html"
    assert problem.reason.startswith("does not compile: ")
    assert problem.reason.endswith("(line 3)")


def test_every_broken_part_is_reported() -> None:
    with pytest.raises(InvalidInput) as info:
        check_template("email", {"subject": "{% if %}", "html": "{{ x ", "text": "{% for %}"})
    assert [p.path for p in info.value.problems] == ["$.subject", "$.html", "$.text"]


@pytest.mark.parametrize(
    ("kind", "variant", "path", "reason"),
    [
        ("email", {"html": "x", "text": "x"}, "$.subject", "required"),
        ("email", {"subject": "x"}, "$.text", "required"),
        (
            "email",
            {"subject": "x", "text": "x", "body": "x"},
            "$.body",
            "unknown part; a email template has subject, html, text",
        ),
        ("sms", {"text": "x", "subject": "x"}, "$.subject", "unknown part; a sms template has text"),
        ("sms", {}, "$.text", "required"),
        ("email", {"subject": "x", "text": "x", "html": ["x"]}, "$.html", "must be text"),
        ("sms", {"text": "x" * (MAX_SOURCE + 1)}, "$.text", f"longer than {MAX_SOURCE} bytes"),
    ],
)
def test_template_shape_problems(kind: str, variant: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_template(kind, variant)
    assert [(p.path, p.reason) for p in info.value.problems] == [(path, reason)]


def test_an_unknown_filter_is_refused_at_upload() -> None:
    with pytest.raises(InvalidInput) as info:
        check_template("sms", {"text": "Summe: {{ order.total | mony }}"})
    assert info.value.problems[0].path == "$.text"


# ---------------------------------------------------------------- choosing the language


@pytest.mark.parametrize(
    ("customer", "order", "shop", "available", "expected"),
    [
        ("de", "en", "fr", {"de", "en", "fr"}, "de"),
        ("de-AT", None, "en", {"de", "en"}, "de"),
        ("it", "fr", "de", {"de", "fr"}, "fr"),
        (None, None, "de", {"de", "en"}, "de"),
        ("it", None, None, {"en"}, "en"),
        ("it", None, None, {"de"}, None),
    ],
)
def test_choose_language(
    customer: str | None, order: str | None, shop: str | None, available: set[str], expected: str | None
) -> None:
    ctx = {"customer": {"language": customer}, "order": {"language": order}, "shop": {"language": shop}}
    assert choose_language(ctx, available.__contains__) == expected


# ---------------------------------------------------------------- SMS segments


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),  # 2 x 153
        ("a" * 307, ("GSM-7", 3)),
        ("Grüße aus Köln, Straße 5!", ("GSM-7", 1)),  # ä ö ü ß are GSM-7
        ("Grüße – Köln", ("UCS-2", 1)),  # the en dash is not
        ("€" * 80, ("GSM-7", 1)),  # the euro sign is an extension character: 2 units each
        ("€" * 81, ("GSM-7", 2)),
        ("a" * 159 + "[", ("GSM-7", 2)),
        ("Ж" * 70, ("UCS-2", 1)),
        ("Ж" * 71, ("UCS-2", 2)),
        ("Ж" * 134, ("UCS-2", 2)),  # 2 x 67
        ("Ж" * 135, ("UCS-2", 3)),
        ("Привет, Анна! Ваш заказ 1001 отправлен.", ("UCS-2", 1)),
        ("a" * 69 + "ç", ("UCS-2", 1)),  # ç (lower case) is not GSM-7: the whole text becomes UCS-2
        ("a" * 68 + "😀", ("UCS-2", 1)),  # an emoji takes two UTF-16 units
        ("a" * 69 + "😀", ("UCS-2", 2)),
        ("😀" * 35, ("UCS-2", 1)),
        ("😀" * 36, ("UCS-2", 2)),
    ],
)
def test_segments(message: str, expected: tuple[str, int]) -> None:
    assert segments(message) == expected


# ---------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("0151 2345 6789", "DE", "+4915123456789"),
        ("0151/23456789", "DE", "+4915123456789"),
        ("+49 151 23456789", None, "+4915123456789"),
        ("+49 151 23456789", "AT", "+4915123456789"),  # a +prefix wins over the country
        ("0664 1234567", "AT", "+436641234567"),
    ],
)
def test_normalise_number_to_e164(raw: str, country: str | None, expected: str) -> None:
    assert normalise_number(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "reason"),
    [
        ("12", "DE", "invalid phone number (not a valid number for its country)"),
        ("abc", "DE", "invalid phone number: "),
        ("0151 2345 6789", None, "invalid phone number: "),  # no + and no country to read it in
        ("", "DE", "no phone number to send the SMS to"),
        (None, "DE", "no phone number to send the SMS to"),
    ],
)
def test_invalid_numbers_fail_the_action(raw: str | None, country: str | None, reason: str) -> None:
    with pytest.raises(ActionFailed) as info:
        normalise_number(raw, country)
    assert str(info.value).startswith(reason)
