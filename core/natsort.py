"""Natural order for names: "game_5" before "game_10", case-insensitive, digits by value, and
letters with accents beside their base letter ("Álvaro" before "Beatriz", "ñ" after "n"):
Spanish staff's alphabetical order, where byte order put every accented initial after "z".
The letters without a decomposition sort as search reads them (core.text.base_letters), the
fold library catalogues use: ø with o, ł with l, đ and ð with d, æ as ae, œ as oe, þ as th (and
ß as ss, by case folding), so a club's Søren, Łukasz and Ødegaard are not listed after "z".

One rule, two shapes: `natural_key` for sorting in Python and `name_sort_key` for the catalog's
indexed `media_files.name_sort` column (a plain string the database orders byte-wise). Both
compare the same way for every name the catalog holds, so the desktop places a live-inserted
row where the server's `sort=original_filename` page puts it.
"""

from __future__ import annotations

import re
import unicodedata

from core.text import base_letters

_PARTS = re.compile(r"(\d+)")
# Digit runs are zero-padded to this width so string order is numeric order; a run this long
# is far beyond any frame counter or date, and longer runs still sort, only by their digits.
DIGITS = 20
# The stored key's length cap (the column's size): a name of 255 short digit runs would
# otherwise expand past what a B-tree index entry may hold on PostgreSQL.
NAME_SORT_MAX = 512
# Marks a number in the key: below every printable character, so a number sorts before any
# text at the same place and after the end of a shorter name ("a" < "a1" < "a-" < "ab").
_NUMBER = "\x01"
# Marks an ñ after its n: above every ASCII letter, so "nube" < "ñandú" < "ocho" (the Spanish
# alphabet's place for ñ), and below every other non-ASCII character.
_TILDE_N = "\x7f"
_COMBINING_TILDE = "\u0303"


def _letters(text: str) -> str:
    """`text` case-folded, with accents dropped (á → a, ü → u) but ñ kept apart from n.

    A name and its accented spelling ("Jose", "José") then tie, and the catalog's id order
    decides between them, as a collation at primary strength would. Latin letters without a
    decomposition are read as their base letters (ł as l, æ as ae); other scripts (CJK,
    Cyrillic) keep their place after the Latin alphabet.
    """
    out: list[str] = []
    # after decomposing: "ǿ" is "ø" + an accent
    for ch in base_letters(unicodedata.normalize("NFD", text.casefold())):
        if not unicodedata.combining(ch):
            out.append(ch)
        elif ch == _COMBINING_TILDE and out and out[-1] == "n":
            out.append(_TILDE_N)
    return "".join(out)


def name_sort_key(name: str) -> str:
    """The natural sort key of a name as one string (case-folded, accents beside their base
    letter, digit runs by value)."""
    out: list[str] = []
    for i, part in enumerate(_PARTS.split(name)):
        if i % 2:
            out.append(_NUMBER + str(int(part)).zfill(DIGITS))
        elif part:
            # control characters never reach a file name; keep them from passing as numbers
            out.append(_letters(part).replace(_NUMBER, " ").replace("\x00", " "))
    return "".join(out)[:NAME_SORT_MAX]


def natural_key(name: str) -> str:
    """Sort key for Python's sorted(): the same order as the catalog's name sort."""
    return name_sort_key(name)
