"""the order by name reads ø, ł, đ, æ… as their base letters: the sort keys of names holding them

core.natsort dropped accents by decomposing letters, and ø, ł, đ, ħ, ŧ, ı, æ, œ, ð and þ have
no decomposition: Søren, Łukasz, Ødegaard and Æsa were listed after "Zoe". The order now reads
them as search does (core.text.base_letters: ø with o, æ as ae, þ as th); this writes again
the stored keys (media_files.name_sort) of the names holding such a letter, or one made of it
and an accent ("ǿ"), found by LIKE: no other name's key changes. Athletes have no stored key.
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

from core.db.folds import Where, write_folds
from core.natsort import name_sort_key
from core.text import BASE_LETTERS

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def _letters_read_anew() -> str:
    """The characters whose key holds such a letter: both cases, and with accents ("Ǿ")."""
    # read here, not on import: alembic loads every revision for `mediadesk --version`, and
    # this look through the Basic Multilingual Plane takes ~0.2 s (all of them are in it)
    return "".join(
        c
        for c in map(chr, range(0x10000))
        if not 0xD800 <= ord(c) < 0xE000
        and any(b in unicodedata.normalize("NFD", c.casefold()) for b in BASE_LETTERS)
    )


def _holds_such_a_letter(letters: str) -> Where:
    def where(rows_of: sa.TableClause) -> sa.ColumnElement[bool]:
        return sa.or_(*(rows_of.c.original_filename.like(f"%{c}%") for c in letters))

    return where


def upgrade() -> None:
    write_folds(
        "media_files",
        {"name_sort": "original_filename"},
        _holds_such_a_letter(_letters_read_anew()),
        rule=name_sort_key,
    )


def downgrade() -> None:
    # The keys stay as made: an older version keeps ordering these names with their base
    # letters until a row is written again, when its own rule puts it after z.
    pass
