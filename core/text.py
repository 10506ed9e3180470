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


def _spacing_accents() -> dict[str, str]:
    """Each spacing accent, an accent written alone ("´", "¨", "¸", "˜", Greek "΄"): its
    compatibility form is a space with the accent on it ("´" is " " + U+0301). Mapped to the
    first character of the same form, which its fold keeps ("΄" reads as "´")."""
    first: dict[str, str] = {}
    kept: dict[str, str] = {}
    # all of them are in the Basic Multilingual Plane (tests/test_search_unicode.py looks
    # through the rest), and reading 65,536 decompositions costs a few milliseconds
    for c in map(chr, range(0x10000)):
        if not unicodedata.decomposition(c):
            continue
        form = unicodedata.normalize("NFKD", c)
        marks = form[1:]
        if form[0] == " " and marks and all(unicodedata.category(m)[0] == "M" for m in marks):
            kept[c] = first.setdefault(form, c)
    return kept


_SPACING = _spacing_accents()
_SPACING_RUN = re.compile("([" + re.escape("".join(sorted(_SPACING))) + "])")


def folded(text: str) -> str:
    """`text` as search compares it: accents dropped ("Ñandú" → "nandu", "ç" → "c"), case
    folded ("ß" → "ss"), compatibility forms read as their letters ("ﬁ" → "fi", "Ａ" → "a").
    Staff type names without accents; a term and a text match when their folds do, so "jose",
    "José" and "JOSE" find each other. A spacing accent is a character of its own, not an
    accent on a letter: it stays ("José´s" → "jose´s"), where the rule above would leave a
    space of it, and a search for "´" would find every name with a space. The catalog stores
    each file name's, description's and athlete name's fold (migration 0023) for its indexes;
    core.query applies the same rule to a record in Python."""
    if _SPACING_RUN.search(text):
        # composed first: "¨" + U+0301 (decomposed "΅") is the one spacing accent "΅"
        parts = _SPACING_RUN.split(unicodedata.normalize("NFC", text))
        # split() puts the accents at the odd places
        return "".join(_SPACING.get(p, p) if i % 2 else _letters(p) for i, p in enumerate(parts))
    return _letters(text)


# Latin letters that no decomposition leads back to a base letter, read as their base letters
# as accented ones are (case folded first: "Ø" → "ø"): staff type "soren" for Søren, "lukasz"
# for Łukasz, "aeroe" for Ærø. Stored folds made before this rule are made again by migration
# 0029, which finds them by these letters (BASE_LETTERS_UPPER: their capitals). The order by
# name (core.natsort) reads them the same way, so Søren sorts with the o's, not after z
# (migration 0033 rekeyed the names holding them).
_BASE_LETTERS = {
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ħ": "h",
    "ŧ": "t",
    "ı": "i",
    "æ": "ae",
    "œ": "oe",
    "ð": "d",
    "þ": "th",
}
BASE_LETTERS = "".join(_BASE_LETTERS)
BASE_LETTERS_UPPER = "ØŁĐĦŦÆŒÐÞ"  # "ı" has none of its own ("I" is "i"'s)
_TO_BASE = str.maketrans(_BASE_LETTERS)


def base_letters(text: str) -> str:
    """`text` with those letters, in lower case, read as their base letters ("søren" → "soren")."""
    return text.translate(_TO_BASE)


def _letters(text: str) -> str:
    """folded() of a text without spacing accents."""
    # decomposed before and after case folding: both can leave accents as separate marks
    # ("İ" → "i" + U+0307); composed at the end so that Hangul and kept marks compare whole
    loose = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return base_letters(unicodedata.normalize("NFC", _ACCENTS.sub("", loose)))


def search_fold(text: str) -> str:
    """folded() with white space read as a search term reads it (core.query.searched): each run
    of it one space, the ends trimmed. What the catalog stores and compares for a name, a
    description or an athlete's name, so that the words of a description on two lines, or of a
    name with two spaces between them, are found as typed with one space (migration 0032)."""
    return " ".join(folded(text).split())
