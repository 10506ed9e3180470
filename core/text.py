"""Text that every catalog backend can store (valid Unicode without NUL characters), and the one
form text is kept and searched in (NFC)."""

from __future__ import annotations

import re
import unicodedata

# Unpaired surrogates have no UTF-8 form: JSON's "\ud800", or the surrogate escapes of header
# bytes that were not UTF-8. PostgreSQL refuses NUL in text columns.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def storable(text: str) -> str:
    """`text` with unpaired surrogates replaced by U+FFFD and NUL characters removed."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def composed(text: str) -> str:
    """`text` in NFC, the form file names, descriptions and search terms are kept in: macOS
    hands out names decomposed ("n" + U+0303 for "ñ"), which compare unequal to the composed
    text typed elsewhere, so a search or a substring test of one misses the other."""
    return unicodedata.normalize("NFC", text)


# The combining marks that are accents on Latin, Greek and Cyrillic letters (the Combining
# Diacritical Marks blocks). Marks of other scripts (Devanagari's vowel signs, Arabic's
# harakat, Hebrew's points) stay: dropping them changes the word, not its spelling.
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def folded(text: str) -> str:
    """`text` as search compares it: accents dropped ("Ñandú" → "nandu", "ç" → "c"), case
    folded ("ß" → "ss"), compatibility forms read as their letters ("ﬁ" → "fi", "Ａ" → "a").
    Staff type names without accents; a term and a text match when their folds do, so "jose",
    "José" and "JOSE" find each other. The catalog stores each file name's, description's and
    athlete name's fold (migration 0023) for its indexes; core.query applies the same rule to
    a record in Python."""
    # decomposed before and after case folding: both can leave accents as separate marks
    # ("İ" → "i" + U+0307); composed at the end so that Hangul and kept marks compare whole
    loose = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return unicodedata.normalize("NFC", _ACCENTS.sub("", loose))
