from datetime import date

import pytest
from pydantic import ValidationError

from regelwerk.model.numbering import Numbering, format_number, sequence_scope


@pytest.mark.parametrize(
    ("pattern", "seq", "number", "scope"),
    [
        ("RE-{yyyy}-{seq:05}", 42, "RE-2026-00042", "2026"),
        ("{yy}{mm}-{seq:04}", 7, "2611-0007", "2026-11"),
        ("INV{seq}", 123456, "INV123456", "all"),
    ],
)
def test_a_pattern_makes_the_number_and_says_when_its_sequence_starts_again(pattern, seq, number, scope):
    assert format_number(pattern, seq, date(2026, 11, 28)) == number
    assert sequence_scope(pattern, date(2026, 11, 28)) == scope


@pytest.mark.parametrize("pattern", ["RE-{yyyy}", "RE-{seq}-{seq}", "RE {seq}", "RE-{seq:5}", "<b>{seq}</b>", ""])
def test_a_pattern_without_exactly_one_running_number_or_with_odd_characters_is_refused(pattern):
    with pytest.raises(ValidationError):
        Numbering(invoice=pattern)
