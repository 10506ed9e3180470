"""Natural order for names: "game_5" before "game_10", case-insensitive, digits by value.

One rule, two shapes: `natural_key` for sorting in Python and `name_sort_key` for the catalog's
indexed `media_files.name_sort` column (a plain string the database orders byte-wise). Both
compare the same way for every name the catalog holds, so the desktop places a live-inserted
row where the server's `sort=original_filename` page puts it.
"""

from __future__ import annotations

import re

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


def name_sort_key(name: str) -> str:
    """The natural sort key of a name as one string (case-folded, digit runs by value)."""
    out: list[str] = []
    for i, part in enumerate(_PARTS.split(name)):
        if i % 2:
            out.append(_NUMBER + str(int(part)).zfill(DIGITS))
        elif part:
            # control characters never reach a file name; keep them from passing as numbers
            out.append(part.casefold().replace(_NUMBER, " ").replace("\x00", " "))
    return "".join(out)[:NAME_SORT_MAX]


def natural_key(name: str) -> str:
    """Sort key for Python's sorted(): the same order as the catalog's name sort."""
    return name_sort_key(name)
