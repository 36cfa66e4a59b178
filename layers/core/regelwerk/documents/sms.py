"""SMS text: the GSM-7 alphabet, how many segments a text takes, and amounts written in GSM-7.

One character outside GSM-7 (a no-break space, an en dash, a lower-case ç) makes the whole SMS
UCS-2: 70 characters a segment instead of 160, so the same text costs two or three times as much.
"""

from __future__ import annotations

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")  # two septets each (an escape, then the character)

# what locale formats put into amounts that GSM-7 has a plain form of: Babel writes "24,90\xa0€"
# (de), "24,90\u202f€" (fr: narrow no-break space), "1\u2019234.50" (de_CH), "\u22125,00 €" (minus sign)
_PLAIN = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u2212": "-",  # minus sign
        "\u2019": "'",  # right single quotation mark, a thousands separator (de_CH)
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
    }
)


def is_gsm7(text: str) -> bool:
    """Whether an SMS can carry the text in the GSM-7 alphabet (with its extension table)."""
    return all(c in GSM7 or c in GSM7_EXTENSION for c in text)


def segments(text: str) -> tuple[str, int]:
    """('GSM-7' or 'UCS-2', number of segments) for an SMS text."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return "GSM-7", 1 if units <= 160 else -(-units // 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else -(-units // 67)


def gsm7_amount(formatted: str, symbol: str, code: str) -> str | None:
    """An amount as the locale formats it, in GSM-7 characters: plain spaces and minus, and the
    currency's ISO code where its symbol is outside the alphabet ("120,00 zł" -> "120,00 PLN").
    ``None`` when the locale's digits themselves are not GSM-7 (Arabic-Indic digits, say)."""
    text = formatted.translate(_PLAIN)
    if symbol and not is_gsm7(symbol):
        text = text.replace(symbol, code)
    return text if is_gsm7(text) else None
