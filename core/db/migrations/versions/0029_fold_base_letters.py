"""search reads ø, ł, đ, æ… as their base letters: the stored folds of names holding them

core.text.folded dropped accents by decomposing letters, and ø, ł, đ, ħ, ŧ, ı, æ, œ, ð and þ
have no decomposition: "soren" did not find "Søren", nor "lukasz" "Łukasz". The rule now reads
them as their base letters; the folds stored by migration 0023 and every write since (file
names, descriptions, athletes' names) are made again for the rows that hold such a letter,
found by LIKE (no other row's fold changes). The order by name (core.natsort) is unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.db.folds import Where, write_folds
from core.text import BASE_LETTERS, BASE_LETTERS_UPPER

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def _holds_such_a_letter(sources: dict[str, str]) -> Where:
    def where(rows_of: sa.TableClause) -> sa.ColumnElement[bool]:
        return sa.or_(
            *(
                rows_of.c[src].like(f"%{letter}%")
                for src in sources.values()
                for letter in BASE_LETTERS + BASE_LETTERS_UPPER
            )
        )

    return where


def _refold(table: str, sources: dict[str, str]) -> None:
    """The folds ({fold column: its source}) of the rows whose sources hold such a letter."""
    write_folds(table, sources, _holds_such_a_letter(sources))


def upgrade() -> None:
    _refold(
        "media_files", {"search_name": "original_filename", "search_description": "description"}
    )
    _refold("athletes", {"search_name": "name"})


def downgrade() -> None:
    # The folds stay as made: an older version folds a search term its own way, so "soren"
    # still finds "Søren" there and "søren" no longer does, until the row is written again.
    pass
