"""ISO 3166-1 alpha-2 country codes, from Babel's CLDR data (loaded lazily)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import cast


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from babel import Locale  # Babel's locale data loads on first use, not at cold start

    # Babel types LocaleDataDict keys as str | int | None; territory codes are always str
    codes = cast("Iterable[str]", Locale("en").territories)
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha())


def is_country(code: str) -> bool:
    return code in _countries()


LANGUAGE_BY_COUNTRY = {
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "LI": "de",
    "LU": "de",
    "FR": "fr",
    "BE": "fr",
    "MC": "fr",
    "IT": "it",
    "SM": "it",
    "ES": "es",
    "NL": "nl",
    "PL": "pl",
    "CZ": "cs",
    "DK": "da",
    "SE": "sv",
    "NO": "nb",
    "FI": "fi",
    "PT": "pt",
    "GB": "en",
    "IE": "en",
    "US": "en",
}
