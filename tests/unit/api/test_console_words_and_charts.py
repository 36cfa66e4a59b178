"""The console's words (German and English, triggers said as sentences) and its server-drawn SVG charts."""

from __future__ import annotations

import re

from regelwerk.api.console.overview import bar_chart
from regelwerk.api.console.words import WORDS, say, triggers_in_words


def test_every_word_exists_in_german_and_english():
    assert set(WORDS["de"]) == set(WORDS["en"])


def test_triggers_read_as_a_sentence_in_the_shops_language():
    triggers = [{"event": "order.paid"}, {"event": "order.status_changed", "to": "in_packing"}]
    assert triggers_in_words("de", triggers) == (
        "Wenn eine Bestellung bezahlt ist oder sich der Status einer Bestellung ändert → in_packing"
    )
    assert triggers_in_words("en", [{"event": "schedule", "cron": "0 8 1 * *"}]) == "When on a schedule (0 8 1 * *)"


def test_a_missing_word_falls_back_to_english_then_to_its_key():
    assert say("fr", "rules") == "Rules"
    assert say("de", "no-such-word") == "no-such-word"
    assert say("de", "redriven", n=3) == "3 Aktion(en) zurück in ihre Warteschlange gestellt."


def test_a_chart_has_a_bar_per_day_scaled_to_the_busiest_and_escapes_its_words():
    svg = str(bar_chart([0, 2, 4, 0, 0, 1, 8], ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "<So>"], 'Läufe "pro" Tag'))
    heights = [int(h) for h in re.findall(r'<rect class="[^"]*" x="\d+" y="-?\d+" width="\d+" height="(\d+)"', svg)]
    assert len(heights) == 7 and heights[6] == max(heights) and heights[2] == heights[6] // 2
    assert svg.count('class="bar zero"') == 3  # days without any: a thin grey line
    assert "&lt;So&gt;" in svg and "<So>" not in svg and 'aria-label="Läufe &#34;pro&#34; Tag"' in svg
    assert 'role="img"' in svg and "style" not in svg  # no inline style: the CSP forbids it
