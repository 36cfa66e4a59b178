"""A dunning level without a fee: ``dunning.fee`` is empty, and neither the letter nor a template speaks of a fee."""

from __future__ import annotations

import pytest

from regelwerk.documents.templates import render
from regelwerk.model.shop import DunningLevel
from tests.unit.documents.test_dunning_letter import letter, make_ctx

REMINDER = DunningLevel(level=1, after_days=3, name="payment_reminder")
FIRST = DunningLevel(level=2, after_days=14, name="first_dunning", fee="5.00")


def test_a_level_without_a_fee_has_an_empty_fee_and_one_with_a_fee_names_it() -> None:
    assert REMINDER.context(days_overdue=3) == {
        "level": 1,
        "name": "payment_reminder",
        "fee": None,
        "after_days": 3,
        "days_overdue": 3,
    }
    assert FIRST.context()["fee"] == "5.00"


@pytest.mark.parametrize(("level", "mentions_fee"), [(REMINDER, False), (FIRST, True)])
def test_the_letter_mentions_a_fee_only_where_the_level_has_one(level: DunningLevel, mentions_fee: bool) -> None:
    # Given the context the daily scan builds for the level
    ctx = make_ctx(level.level) | {"dunning": level.context(days_overdue=14)}
    # When the letter is rendered and read back
    text, _, _ = letter(ctx)
    # Then the fee is named (and added) only on a level with a fee
    assert ("Mahngebühr" in text) is mentions_fee
    assert "0,00 € Mahngebühr" not in text and "Mahngebühr von 0,00" not in text
    assert ("Jetzt zu zahlen 154,90 €" if mentions_fee else "Jetzt zu zahlen 149,90 €") in text


def test_a_template_with_the_fee_prints_nothing_for_a_level_without_one() -> None:
    ctx = make_ctx(1) | {"dunning": REMINDER.context()}
    assert render({"text": "[{{ dunning.fee | money }}]"}, ctx, language="de", parts=("text",))["text"] == "[]"
    ctx = make_ctx(2) | {"dunning": FIRST.context()}
    assert render({"text": "{{ dunning.fee | money }}"}, ctx, language="de", parts=("text",))["text"] == "5,00\xa0€"
