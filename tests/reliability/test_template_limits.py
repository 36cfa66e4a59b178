"""Shop templates are code written by strangers: a corpus of runaway and injection templates, each of
which must end quickly, in little memory, with a clear error naming the limit (never a crash)."""

from __future__ import annotations

import threading
import time
import tracemalloc

import pytest

from regelwerk.documents.templates import TemplateFailed, render

LINES = [{"name": "x" * 50, "sku": f"S{i}"} for i in range(20)]  # a usual order
CTX = {
    "order": {"number": "1001", "line_items": LINES},
    "customer": {"first_name": "<img src=x onerror=alert(1)>", "language": "de"},
    "shop": {"name": "Morgenrot", "time_zone": "Europe/Berlin"},
}

RUNAWAY = [
    # widths and precisions that Python would build first and check after
    "{{ '%0300000000d'|format(1) }}",
    "{{ '%.300000000f'|format(1) }}",
    "{{ '%*d'|format(300000000, 1) }}",
    "{{ '%0300000000d' % 1 }}",
    "{{ '%(a)0300000000d' % {'a': 1} }}",
    "{{ '{:>300000000}'.format(1) }}",
    "{{ '{:0300000000d}'.format(1) }}",
    "{{ '{:{w}}'.format(1, w=300000000) }}",
    "{{ '{a:>300000000}'.format_map({'a': 1}) }}",
    "{{ 'x'|center(300000000) }}",
    "{{ 'x'.center(300000000) }}",
    "{{ 'x'.ljust(300000000) }}",
    "{{ 'x'.rjust(300000000) }}",
    "{{ '1'.zfill(300000000) }}",
    "{{ ('\\t' * 1000).expandtabs(100000) }}",
    "{{ ('a' * 100000)|replace('a', 'a' * 100000) }}",
    "{{ ('a' * 100000).replace('a', 'bbbbbbbbbb') }}",
    "{{ ('x\\n' * 50000)|indent(100000) }}",
    "{{ ('x\\n' * 50000)|indent(9000) }}",
    "{{ ('x ' * 50000)|wordwrap(300000000) }}",
    "{{ ['x' * 100000] * 10|join('y' * 100000) }}",
    "{{ ('y' * 99999).join(['x' * 99999] * 100) }}",
    "{{ range(10)|batch(1000000000, 'x')|list }}",
    "{{ range(10)|slice(1000000000)|list }}",
    # repetition and growth
    "{{ 'x' * 1000000000 }}",
    "{{ [1] * 1000000000 }}",
    "{{ 2 ** 100000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ ('x' * 99999) + ('x' * 99999) + ('x' * 99999) + ('x' * 99999) + ('x' * 99999) + ('x' * 99999) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}",
    "{{ lipsum(n=1000000) }}",
    # loops that run long, with and without output
    "{% for i in range(100000000) %}x{% endfor %}",
    "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{{ j|string }}{% endfor %}{% endfor %}",
    "{% for a in order.line_items * 50 %}{% for b in order.line_items * 50 %}{% for c in order.line_items * 50 %}"
    "{{ a.sku }}{% endfor %}{% endfor %}{% endfor %}",
    "{% for a in order.line_items * 50 %}{% for b in order.line_items * 50 %}{% for c in order.line_items * 50 %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{% set s = 'x' * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
    "{% for i in range(10000) %}{{ 'x' * 100000 }}{% endfor %}",
    # recursion
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(0) }}",
    "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}",
    # escapes from the sandbox
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ order.__class__.__base__.__subclasses__() }}",
    "{{ range.__globals__ }}",
    "{{ joiner.__init__.__globals__.__builtins__.__import__('os').system('id') }}",
    "{{ ''.format.__globals__ }}",
    "{% set x = order.line_items.append(1) %}",
    "{{ order.line_items.clear() }}",
    "{{ config }}{{ request.application.__globals__ }}",
    # integers too big to print
    "{{ 10 ** 100 * 10 ** 100 * 10 ** 100 * 10 ** 100 * 10 ** 100 * 10 ** 100 * 10 ** 100 * 10 ** 100 * 10 ** 100 }}",
    "{{ '9' * 5000|int }}",
]


@pytest.mark.parametrize("source", RUNAWAY)
def test_a_runaway_template_ends_fast_in_little_memory_naming_its_limit(source: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        render({"text": source}, CTX, language="de", parts=("text",))
        outcome = None
    except TemplateFailed as exc:
        outcome = str(exc)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Then it ended within 200 ms (tracemalloc's bookkeeping slows the Python it traces: a margin) and 20 MB
    assert elapsed < 0.3, f"{elapsed:.3f}s"
    assert peak < 20 * 1024 * 1024, f"{peak / 1e6:.1f} MB"
    if outcome is not None:  # refused: the reason names what was too much
        assert outcome.startswith(("template part 'text'", "template rendering took longer")), outcome
    else:  # or it rendered something harmless: a sandboxed undefined, a bounded count
        pass


def test_the_corpus_is_at_least_fifty_templates_and_most_are_refused() -> None:
    refused = 0
    for source in RUNAWAY:
        try:
            render({"text": source}, CTX, language="de", parts=("text",))
        except TemplateFailed:
            refused += 1
    assert len(RUNAWAY) >= 50 and refused >= 45, refused


def test_a_big_order_gets_more_time_and_still_ends() -> None:
    # Given a 1,000-line order: a real template over it renders, a runaway one stops at its larger budget
    big = CTX | {"order": {"number": "1001", "line_items": [{"name": "x" * 50, "sku": f"S{i}"} for i in range(1000)]}}
    fine = "{% for i in order.line_items %}{{ i.sku }}: {{ i.name }}\n{% endfor %}"
    assert render({"text": fine}, big, language="de", parts=("text",))["text"].count("\n") == 1000
    started = time.perf_counter()
    with pytest.raises(TemplateFailed, match=r"longer than 0\.35s"):
        loop = (
            "{% for a in order.line_items %}{% for b in order.line_items %}{% for c in order.line_items %}"
            "{% endfor %}{% endfor %}{% endfor %}"
        )
        render({"text": loop}, big, language="de", parts=("text",))
    assert time.perf_counter() - started < 0.6


def test_the_time_limit_holds_on_any_thread() -> None:
    # a render on a worker thread (make serve's request threads) stops at the limit too
    errors: list[str] = []

    def run() -> None:
        try:
            render(
                {"text": "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"},
                CTX,
                language="de",
                parts=("text",),
            )
        except TemplateFailed as exc:
            errors.append(str(exc))

    started = time.perf_counter()
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and errors and time.perf_counter() - started < 3
