"""search reads white space in the texts as in the term: the stored folds holding other kinds

A search term's runs of white space are read as one space, its ends trimmed, but the stored
folds (migration 0023) kept the texts' own: a description written on two lines ("final\\nde
copa") was not found by "final de copa", nor by the line break pasted into the search box, and
a name with two spaces ("game  2.mp4") by nothing typed, not even the name itself. The folds
(core.text.search_fold) now read white space as the term does; this makes again the folds of
the rows whose folds hold anything but single spaces between words, found by LIKE (no other
row's fold changes). The originals, and the order by name, are unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.db.folds import Where, write_folds

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# what str.split() reads as white space besides the space (tests/test_search_white_space.py
# checks the list): a fold holding one of them, two spaces in a row or a space at an end is
# made again
OTHER_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _holds_other_white_space(folds: list[str]) -> Where:
    def where(rows_of: sa.TableClause) -> sa.ColumnElement[bool]:
        patterns = ["%  %", " %", "% ", *(f"%{c}%" for c in OTHER_SPACES)]
        return sa.or_(*(rows_of.c[fold].like(p) for fold in folds for p in patterns))

    return where


def _refold(table: str, sources: dict[str, str]) -> None:
    """The folds ({fold column: its source}) of the rows whose folds hold such white space."""
    write_folds(table, sources, _holds_other_white_space(list(sources)))


def upgrade() -> None:
    _refold(
        "media_files", {"search_name": "original_filename", "search_description": "description"}
    )
    _refold("athletes", {"search_name": "name"})


def downgrade() -> None:
    # The folds stay as made: an older version reads them as it reads a term, with its white
    # space already as one space, so they find what they found, and more.
    pass
